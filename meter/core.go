package meter

import (
	"bytes"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/verimeter/verimeter/protocol"
	"github.com/verimeter/verimeter/statemachine/journal"
)

// Errors of the legally relevant core. A refused download is also a
// logbook entry, except when the logbook is full.
var (
	ErrLogbookFull = errors.New("meter: logbook full; downloads refused until it is read out and cleared by the authority")
	ErrSelfTest    = errors.New("meter: self-test of the new software failed; rolled back")
	// ErrSlotImage stops the meter at boot when the image of its active
	// firmware slot is missing or differs from the size and digests the
	// journal recorded for it: the legally relevant code that would run is
	// not the code that was verified and installed.
	ErrSlotImage = errors.New("meter: firmware slot image does not match its journal record")
)

// Cause classifies why a download attempt did not install, in its logbook
// entry (OIML D 31: the result of every attempt), so that an examiner and
// a test can tell the failure classes apart without parsing the reason.
type Cause string

// The failure classes of a download attempt.
const (
	CauseManifest  Cause = "manifest refused"  // signatures, model, version or security version (protocol.VerifyManifest)
	CauseDigest    Cause = "digest mismatch"   // the image's size or SHA-256 differs from the manifest
	CauseTransfer  Cause = "transfer aborted"  // activation asked for an image not received whole
	CauseSelfTest  Cause = "self-test failed"  // the activated image failed its self-test: rolled back
	CausePowerLoss Cause = "power lost"        // the install was cut by power loss: settled at boot
	CauseStore     Cause = "slot write failed" // the slot image or the trial could not be written: the old software stays
)

// LogEntry is one entry of the WELMEC 7.2 (Extension D) logbook: one per
// download attempt, successful or not, with the software IDs before and
// after, the time and the party that initiated it.
type LogEntry struct {
	Seq   int    `json:"seq"`
	Time  int64  `json:"time"`
	Party string `json:"party"`
	Event string `json:"event"` // "installed", "rejected", "rolled back"
	// Cause is the failure class of an attempt that did not install.
	Cause Cause  `json:"cause,omitempty"`
	OldID string `json:"old_id"`
	// NewID is the software ID of the legally relevant code offered, when
	// it was received whole (SHA-256 of its bytes, as the meter computes
	// it), also for a refused attempt.
	NewID      string `json:"new_id,omitempty"`
	OldVersion uint32 `json:"old_version"`
	// NewVersion is the version the manifest names; for a refused
	// manifest, the version it claims.
	NewVersion uint32 `json:"new_version,omitempty"`
	Reason     string `json:"reason,omitempty"`
}

// Slot is a firmware image with its versions: the factory image a meter is
// manufactured with (Config.Factory).
type Slot struct {
	Version         uint32 `json:"version"`
	SecurityVersion uint32 `json:"security_version"`
	LR              []byte `json:"lr"`
	Other           []byte `json:"other"`
}

// slotMeta is what the journal holds of a firmware slot; the image is a
// file of its own (slotFiles), so that a firmware record stays small
// whatever the images' size (journal.MaxRecordLen).
type slotMeta struct {
	Version         uint32   `json:"version"`
	SecurityVersion uint32   `json:"security_version"`
	LRSize          uint32   `json:"lr_size"`
	LRDigest        [32]byte `json:"lr_digest"`
	OtherSize       uint32   `json:"other_size"`
	OtherDigest     [32]byte `json:"other_digest"`
}

func metaOf(version, securityVersion uint32, lr, other []byte) *slotMeta {
	return &slotMeta{Version: version, SecurityVersion: securityVersion,
		LRSize: uint32(len(lr)), LRDigest: sha256.Sum256(lr), OtherSize: uint32(len(other)), OtherDigest: sha256.Sum256(other)}
}

// check verifies a slot's image against its record and returns its legally
// relevant part.
func (s *slotMeta) check(img []byte) ([]byte, error) {
	if uint64(len(img)) != uint64(s.LRSize)+uint64(s.OtherSize) {
		return nil, fmt.Errorf("%w: %d bytes, recorded %d + %d", ErrSlotImage, len(img), s.LRSize, s.OtherSize)
	}
	lr, other := img[:s.LRSize], img[s.LRSize:]
	dl, do := sha256.Sum256(lr), sha256.Sum256(other)
	if subtle.ConstantTimeCompare(dl[:], s.LRDigest[:]) != 1 || subtle.ConstantTimeCompare(do[:], s.OtherDigest[:]) != 1 {
		return nil, fmt.Errorf("%w: digest", ErrSlotImage)
	}
	return lr, nil
}

// firmwareState is the firmware record: the slots' metadata (nil: empty),
// the active slot, and the attempt in progress.
type firmwareState struct {
	Slots  [2]*slotMeta `json:"slots"`
	Active int          `json:"active"`
	// Attempt, while set, is an install in progress: recorded (with its
	// target slot emptied) before the image is written, then activated on
	// trial (Active == Attempt.Slot). The attempt is confirmed by its
	// "installed" logbook entry; a boot that finds an attempt without one
	// logs it as rolled back and keeps or makes the old slot active, so an
	// install is always either complete or rolled back, never half done,
	// and always in the logbook (DESIGN.md UC5, L2).
	Attempt *attempt `json:"attempt,omitempty"`
}

// attempt is an install in progress: the logbook sequence number its
// outcome entry gets, the target slot, and what that entry says.
type attempt struct {
	Seq        int    `json:"seq"`
	Slot       int    `json:"slot"`
	Time       int64  `json:"time"`
	Party      string `json:"party"`
	OldID      string `json:"old_id"`
	NewID      string `json:"new_id"`
	OldVersion uint32 `json:"old_version"`
	NewVersion uint32 `json:"new_version"`
}

// Core is the fixed legally relevant core. Its state is persisted in the
// store (and the slot images in their files) before any effect is reported.
type Core struct {
	store    *Store
	slots    *slotFiles
	policy   protocol.ManifestPolicy // keys and model; version and floor come from the state
	fw       firmwareState
	floor    uint32
	logbook  []LogEntry
	capacity int
	// SelfTest checks a freshly activated image; a failure rolls back. The
	// meter injects it (the demo forces one meter's self-test to fail).
	SelfTest func(lr []byte) error
	id       [32]byte
}

// NewCore boots the core from store with the slot images beside the
// store's file on the operating system's filesystem (in memory for a store
// kept in memory); see NewCoreFS.
func NewCore(store *Store, policy protocol.ManifestPolicy, factory Slot, capacity int) (*Core, error) {
	return NewCoreFS(nil, storeDir(store), store, policy, factory, capacity)
}

// NewCoreFS loads the core's state from the store and its slot images from
// dir through fsys (nil: the operating system's; dir "": in memory), or
// installs the factory image when the store is empty; settles an install
// that power loss interrupted; and computes the software ID of the active
// legally relevant code from its slot image, as at every boot. An active
// image that does not match its record is ErrSlotImage.
func NewCoreFS(fsys journal.FS, dir string, store *Store, policy protocol.ManifestPolicy, factory Slot, capacity int) (*Core, error) {
	c := &Core{store: store, slots: newSlotFiles(fsys, dir), policy: policy, capacity: capacity}
	found := false
	var legacy *legacyFirmware
	if err := store.Each(recFirmware, func(b []byte) error {
		found = true
		var err error
		c.fw, legacy, err = decodeFirmware(b) // the last record wins, whole
		return err
	}); err != nil {
		return nil, fmt.Errorf("%w: firmware record: %w", ErrStore, err)
	}
	if err := store.Each(recFloor, func(b []byte) error {
		if len(b) != 4 {
			return fmt.Errorf("%w: floor record", ErrStore)
		}
		c.floor = max(c.floor, uint32(b[0])<<24|uint32(b[1])<<16|uint32(b[2])<<8|uint32(b[3]))
		return nil
	}); err != nil {
		return nil, err
	}
	if err := store.Each(recLogbook, func(b []byte) error {
		var e LogEntry
		if err := json.Unmarshal(b, &e); err != nil {
			return fmt.Errorf("%w: logbook record: %w", ErrStore, err)
		}
		c.logbook = append(c.logbook, e)
		return nil
	}); err != nil {
		return nil, err
	}
	if err := c.slots.clean(); err != nil {
		return nil, err
	}
	switch {
	case !found:
		// First boot: the factory image goes to slot A, then its record.
		if err := c.slots.write(0, append(bytes.Clone(factory.LR), factory.Other...)); err != nil {
			return nil, err
		}
		c.fw = firmwareState{Slots: [2]*slotMeta{metaOf(factory.Version, factory.SecurityVersion, factory.LR, factory.Other)}}
		if err := c.saveFirmware(); err != nil {
			return nil, err
		}
	case legacy != nil:
		if err := c.migrate(legacy); err != nil {
			return nil, err
		}
	}
	// The factory's security version is the floor's least value, also when
	// power failed at the first boot before the floor record was written.
	if c.floor < factory.SecurityVersion {
		c.floor = factory.SecurityVersion
		if err := c.saveFloor(); err != nil {
			return nil, err
		}
	}
	if err := c.settle(CausePowerLoss, "power lost before the self-test passed; rolled back at boot"); err != nil {
		return nil, err
	}
	lr, err := c.readSlot(c.fw.Active)
	if err != nil {
		return nil, err
	}
	c.id = sha256.Sum256(lr)
	return c, nil
}

// readSlot reads a slot's image and returns its legally relevant part,
// checked against the slot's record.
func (c *Core) readSlot(i int) ([]byte, error) {
	s := c.fw.Slots[i]
	if s == nil {
		return nil, fmt.Errorf("%w: slot %s is empty", ErrSlotImage, slotNames[i])
	}
	img, err := c.slots.read(i)
	if err != nil {
		return nil, fmt.Errorf("%w: slot %s: %w", ErrSlotImage, slotNames[i], err)
	}
	return s.check(img)
}

// settle ends an attempt that did not finish: at boot one that power loss
// interrupted, in operation one that a failed write left. If its
// "installed" entry is in the logbook the self-test had passed: the commit
// is finished (floor raised, attempt cleared). Otherwise the attempt is
// logged as rolled back (unless its entry was already written) and the old
// slot is active again. Each step is idempotent, so power failing during
// the settling is settled at the next boot.
func (c *Core) settle(cause Cause, reason string) error {
	a := c.fw.Attempt
	if a == nil {
		return nil
	}
	if a.Seq <= len(c.logbook) && c.logbook[a.Seq-1].Event == "installed" {
		if sv := c.fw.Slots[c.fw.Active].SecurityVersion; sv > c.floor {
			c.floor = sv
			if err := c.saveFloor(); err != nil {
				return err
			}
		}
		c.fw.Attempt = nil
		return c.saveFirmware()
	}
	if a.Seq > len(c.logbook) {
		if err := c.log(LogEntry{Time: a.Time, Party: a.Party, Event: "rolled back", Cause: cause,
			OldID: a.OldID, NewID: a.NewID, OldVersion: a.OldVersion, NewVersion: a.NewVersion, Reason: reason}); err != nil {
			return err
		}
	}
	if c.fw.Active == a.Slot {
		c.fw.Active = 1 - a.Slot
	}
	c.fw.Attempt = nil
	return c.saveFirmware()
}

func (c *Core) saveFirmware() error {
	b, err := json.Marshal(c.fw)
	if err != nil {
		return err
	}
	return c.store.Append(recFirmware, b, true)
}

func (c *Core) saveFloor() error {
	f := c.floor
	return c.store.Append(recFloor, []byte{byte(f >> 24), byte(f >> 16), byte(f >> 8), byte(f)}, true)
}

func (c *Core) log(e LogEntry) error {
	e.Seq = len(c.logbook) + 1
	b, err := json.Marshal(e)
	if err != nil {
		return err
	}
	if err := c.store.Append(recLogbook, b, true); err != nil {
		return err
	}
	c.logbook = append(c.logbook, e)
	return nil
}

// SoftwareID is the SHA-256 of the active legally relevant code, computed
// at boot from its slot image and after each activation from the image
// read back from its slot; the display shows it.
func (c *Core) SoftwareID() string { return hex.EncodeToString(c.id[:8]) }

// Version is the active legally relevant version.
func (c *Core) Version() uint32 { return c.fw.Slots[c.fw.Active].Version }

// Floor is the committed security-version floor.
func (c *Core) Floor() uint32 { return c.floor }

// Logbook returns a copy of the logbook.
func (c *Core) Logbook() []LogEntry { return append([]LogEntry(nil), c.logbook...) }

func softwareID(lr []byte) string {
	d := sha256.Sum256(lr)
	return hex.EncodeToString(d[:8])
}

// start settles what an earlier failed write left and refuses an attempt
// the logbook has no room for (its entry would overwrite, which a legal
// logbook never does).
func (c *Core) start() error {
	if err := c.settle(CauseStore, "a write of the previous attempt failed; the old software stayed active"); err != nil {
		return err
	}
	if len(c.logbook) >= c.capacity {
		return fmt.Errorf("%w: %d of %d entries", ErrLogbookFull, len(c.logbook), c.capacity)
	}
	return nil
}

// Abort logs a download attempt whose image did not arrive whole when its
// activation was asked for (CauseTransfer), and returns why; with the
// logbook full it is ErrLogbookFull and nothing is written. The version in
// the entry is the one the manifest claims, if it parses.
func (c *Core) Abort(manifest []byte, party string, now int64, why error) error {
	if err := c.start(); err != nil {
		return err
	}
	pol := c.policy
	pol.InstalledVersion, pol.SecurityFloor = c.Version(), c.floor
	m, _ := protocol.VerifyManifest(manifest, pol) // only for the version it names
	if err := c.log(LogEntry{Time: now, Party: party, Event: "rejected", Cause: CauseTransfer, OldID: c.SoftwareID(), OldVersion: c.Version(),
		NewVersion: m.Version, Reason: why.Error()}); err != nil {
		return err
	}
	return why
}

// Install checks a manifest and image and activates them: dual signatures,
// model, newer version, security version not below the floor, digests and
// sizes (protocol.VerifyManifest and VerifyImage); then the image goes to
// the inactive slot's file, which is activated on trial, read back and
// self-tested. On success the "installed" logbook entry confirms the trial
// and the floor is raised to the manifest's security version (only now,
// after the self-test, so a failed install cannot lock out the old
// software); on failure the old slot is active again. Every attempt is one
// logbook entry, failed ones included; with the logbook full the attempt
// is refused (ErrLogbookFull) and nothing is written.
//
// The durable steps are ordered so that power lost between any two of them
// leaves a state the next boot settles (settle): the attempt recorded with
// its target slot emptied, the image file written (temporary file, fsync,
// rename, directory fsync), the slot recorded and activated on trial, then
// the outcome entry, the floor, and the attempt cleared.
func (c *Core) Install(manifest, image []byte, party string, now int64) error {
	if err := c.start(); err != nil {
		return err
	}
	old := *c.fw.Slots[c.fw.Active]
	entry := LogEntry{Time: now, Party: party, OldID: c.SoftwareID(), OldVersion: old.Version}
	pol := c.policy
	pol.InstalledVersion = old.Version
	pol.SecurityFloor = c.floor
	m, err := protocol.VerifyManifest(manifest, pol)
	cause := CauseManifest
	if err == nil {
		cause = CauseDigest
		err = c.checkImage(&m, image)
	}
	if err != nil {
		entry.Event, entry.Cause, entry.Reason, entry.NewVersion = "rejected", cause, err.Error(), m.Version
		if m.LR != nil && int64(m.LR.Size) <= int64(len(image)) {
			entry.NewID = softwareID(image[:m.LR.Size]) // what was offered
		}
		if lerr := c.log(entry); lerr != nil {
			return lerr
		}
		return err
	}
	lrLen := 0
	if m.LR != nil {
		lrLen = int(m.LR.Size)
	}
	lr, other := image[:lrLen], image[lrLen:]
	if m.LR == nil {
		// Only the other part changes; the LR code stays.
		if lr, err = c.readSlot(c.fw.Active); err != nil {
			return err
		}
	}
	target := 1 - c.fw.Active
	meta := metaOf(m.Version, m.SecurityVersion, lr, other)
	entry.NewID, entry.NewVersion = softwareID(lr), m.Version
	a := &attempt{Seq: len(c.logbook) + 1, Slot: target, Time: now, Party: party,
		OldID: entry.OldID, NewID: entry.NewID, OldVersion: entry.OldVersion, NewVersion: entry.NewVersion}
	// 1. The attempt, with its target slot emptied: from here on it ends
	// in the logbook whatever happens.
	prev := c.fw
	c.fw.Slots[target], c.fw.Attempt = nil, a
	if err := c.saveFirmware(); err != nil {
		c.fw = prev
		return err
	}
	// 2. The image, in a file of its own.
	if err := c.slots.write(target, append(bytes.Clone(lr), other...)); err != nil {
		return c.fail(err)
	}
	// 3. Activated on trial.
	c.fw.Slots[target], c.fw.Active = meta, target
	if err := c.saveFirmware(); err != nil {
		c.fw.Active = 1 - target
		return c.fail(err)
	}
	// 4. The installed code, read back from its slot: the self-test and
	// the software ID are of what is installed, not of what was received.
	installed, err := c.readSlot(target)
	if err != nil {
		return c.fail(err)
	}
	if c.SelfTest != nil {
		if terr := c.SelfTest(installed); terr != nil {
			if err := c.settle(CauseSelfTest, terr.Error()); err != nil {
				return err
			}
			return fmt.Errorf("%w: %w", ErrSelfTest, terr)
		}
	}
	entry.Event = "installed"
	if err := c.log(entry); err != nil {
		return c.fail(err)
	}
	c.id = sha256.Sum256(installed)
	return c.settle("", "") // the commit: floor raised, attempt cleared
}

// fail ends an attempt whose durable step failed with err: it is logged as
// rolled back (CauseStore) and the old slot stays active. If even that
// cannot be written, the attempt stays recorded and the next attempt or
// boot settles it.
func (c *Core) fail(err error) error {
	if serr := c.settle(CauseStore, err.Error()); serr != nil {
		return errors.Join(err, serr)
	}
	return err
}

func (c *Core) checkImage(m *protocol.Manifest, image []byte) error {
	n := 0
	if m.LR != nil {
		n = int(m.LR.Size)
	}
	if n > len(image) {
		return fmt.Errorf("%w: image of %d bytes shorter than its legally relevant part", protocol.ErrManifest, len(image))
	}
	if m.LR != nil {
		if err := protocol.VerifyImage(m.LR, image[:n]); err != nil {
			return err
		}
	}
	if m.Other != nil {
		return protocol.VerifyImage(m.Other, image[n:])
	}
	if n != len(image) {
		return fmt.Errorf("%w: %d bytes beyond the manifest's components", protocol.ErrManifest, len(image)-n)
	}
	return nil
}

// legacyFirmware is the firmware record before the slot images moved to
// files of their own: the images inline, and the trial.
type legacyFirmware struct {
	Slots [2]*struct {
		Version         uint32 `json:"version"`
		SecurityVersion uint32 `json:"security_version"`
		LR              []byte `json:"lr"`
		Other           []byte `json:"other"`
	} `json:"slots"`
	Active int      `json:"active"`
	Trial  *attempt `json:"trial,omitempty"`
}

// decodeFirmware reads a firmware record, of either format; a legacy one is
// returned too, for migrate.
func decodeFirmware(b []byte) (firmwareState, *legacyFirmware, error) {
	var probe struct {
		Slots [2]map[string]json.RawMessage `json:"slots"`
	}
	if err := json.Unmarshal(b, &probe); err != nil {
		return firmwareState{}, nil, err
	}
	if _, ok := probe.Slots[0]["lr"]; ok {
		var l legacyFirmware
		if err := json.Unmarshal(b, &l); err != nil {
			return firmwareState{}, nil, err
		}
		if l.Active < 0 || l.Active > 1 || l.Slots[l.Active] == nil {
			return firmwareState{}, nil, errors.New("no active slot")
		}
		return firmwareState{Active: l.Active}, &l, nil
	}
	var f firmwareState
	if err := json.Unmarshal(b, &f); err != nil {
		return firmwareState{}, nil, err
	}
	if f.Active < 0 || f.Active > 1 || f.Slots[f.Active] == nil || f.Attempt != nil && (f.Attempt.Slot < 0 || f.Attempt.Slot > 1 || f.Attempt.Seq < 1) {
		return firmwareState{}, nil, errors.New("no active slot, or a malformed attempt")
	}
	return f, nil, nil
}

// migrate moves the images of a legacy firmware record to their slot files
// and records the slots' metadata; a legacy trial becomes the attempt,
// settled as at any boot. Power lost before the new record leaves the
// legacy one, and the migration runs again.
func (c *Core) migrate(l *legacyFirmware) error {
	f := firmwareState{Active: l.Active}
	for i, s := range l.Slots {
		if s == nil {
			continue
		}
		if err := c.slots.write(i, append(bytes.Clone(s.LR), s.Other...)); err != nil {
			return err
		}
		f.Slots[i] = metaOf(s.Version, s.SecurityVersion, s.LR, s.Other)
	}
	if t := l.Trial; t != nil {
		old, next := l.Slots[1-l.Active], l.Slots[l.Active]
		f.Attempt = &attempt{Seq: t.Seq, Slot: l.Active, Time: t.Time, Party: t.Party}
		if old != nil {
			f.Attempt.OldID, f.Attempt.OldVersion = softwareID(old.LR), old.Version
		}
		f.Attempt.NewID, f.Attempt.NewVersion = softwareID(next.LR), next.Version
	}
	c.fw = f
	return c.saveFirmware()
}
