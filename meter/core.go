package meter

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/verimeter/verimeter/protocol"
)

// Errors of the legally relevant core. A refused download is also a
// logbook entry.
var (
	ErrLogbookFull = errors.New("meter: logbook full; downloads refused until it is read out and cleared by the authority")
	ErrSelfTest    = errors.New("meter: self-test of the new software failed; rolled back")
)

// LogEntry is one entry of the WELMEC 7.2 (Extension D) logbook: one per
// download attempt, successful or not, with the software IDs before and
// after, the time and the party that initiated it.
type LogEntry struct {
	Seq        int    `json:"seq"`
	Time       int64  `json:"time"`
	Party      string `json:"party"`
	Event      string `json:"event"` // "installed", "rejected", "rolled back"
	OldID      string `json:"old_id"`
	NewID      string `json:"new_id,omitempty"`
	OldVersion uint32 `json:"old_version"`
	NewVersion uint32 `json:"new_version,omitempty"`
	Reason     string `json:"reason,omitempty"`
}

// Slot is one of the two firmware slots (A/B): the legally relevant image
// and its versions.
type Slot struct {
	Version         uint32 `json:"version"`
	SecurityVersion uint32 `json:"security_version"`
	LR              []byte `json:"lr"`
	Other           []byte `json:"other"`
}

type firmwareState struct {
	Slots  [2]Slot `json:"slots"`
	Active int     `json:"active"`
	// Trial, while set, marks the active slot as on trial: activated but
	// not yet confirmed. The attempt is confirmed by its "installed"
	// logbook entry; a boot that finds a trial without one rolls back
	// (power failed during the install), so an install is always either
	// complete or rolled back, never half done (DESIGN.md L2).
	Trial *trial `json:"trial,omitempty"`
}

// trial is an install in progress: the logbook sequence number its outcome
// entry gets, and the attempt's time and party for that entry.
type trial struct {
	Seq   int    `json:"seq"`
	Time  int64  `json:"time"`
	Party string `json:"party"`
}

// Core is the fixed legally relevant core. Its state is persisted in the
// store before any effect is reported.
type Core struct {
	store    *Store
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

// NewCore loads the core's state from the store, or installs the factory
// image when the store is empty, and computes the software ID of the active
// legally relevant code (as at every boot).
func NewCore(store *Store, policy protocol.ManifestPolicy, factory Slot, capacity int) (*Core, error) {
	c := &Core{store: store, policy: policy, capacity: capacity}
	found := false
	if err := store.Each(recFirmware, func(b []byte) error {
		found = true
		c.fw = firmwareState{} // the last record wins, whole
		return json.Unmarshal(b, &c.fw)
	}); err != nil {
		return nil, fmt.Errorf("%w: firmware record: %v", ErrStore, err)
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
			return fmt.Errorf("%w: logbook record: %v", ErrStore, err)
		}
		c.logbook = append(c.logbook, e)
		return nil
	}); err != nil {
		return nil, err
	}
	if !found {
		c.fw = firmwareState{Slots: [2]Slot{factory}, Active: 0}
		if err := c.saveFirmware(); err != nil {
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
	if c.fw.Trial != nil {
		if err := c.settleTrial(); err != nil {
			return nil, err
		}
	}
	c.id = sha256.Sum256(c.fw.Slots[c.fw.Active].LR)
	return c, nil
}

// settleTrial ends, at boot, an install that power loss interrupted. If its
// "installed" entry is in the logbook the self-test had passed: the commit
// is finished (floor raised, trial cleared). Otherwise the old slot is
// activated again and the attempt is logged as rolled back (unless its
// rollback entry was already written). Each step is idempotent, so power
// failing during the settling is settled at the next boot.
func (c *Core) settleTrial() error {
	t := c.fw.Trial
	if t.Seq <= len(c.logbook) && c.logbook[t.Seq-1].Event == "installed" {
		if sv := c.fw.Slots[c.fw.Active].SecurityVersion; sv > c.floor {
			c.floor = sv
			if err := c.saveFloor(); err != nil {
				return err
			}
		}
		c.fw.Trial = nil
		return c.saveFirmware()
	}
	if t.Seq > len(c.logbook) {
		old, next := c.fw.Slots[1-c.fw.Active], c.fw.Slots[c.fw.Active]
		oldID, newID := sha256.Sum256(old.LR), sha256.Sum256(next.LR)
		if err := c.log(LogEntry{Time: t.Time, Party: t.Party, Event: "rolled back",
			OldID: hex.EncodeToString(oldID[:8]), NewID: hex.EncodeToString(newID[:8]), OldVersion: old.Version, NewVersion: next.Version,
			Reason: "power lost before the self-test passed; rolled back at boot"}); err != nil {
			return err
		}
	}
	c.fw.Active = 1 - c.fw.Active
	c.fw.Trial = nil
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
// at boot and after each activation; the display shows it.
func (c *Core) SoftwareID() string { return hex.EncodeToString(c.id[:8]) }

// Version is the active legally relevant version.
func (c *Core) Version() uint32 { return c.fw.Slots[c.fw.Active].Version }

// Floor is the committed security-version floor.
func (c *Core) Floor() uint32 { return c.floor }

// Logbook returns a copy of the logbook.
func (c *Core) Logbook() []LogEntry { return append([]LogEntry(nil), c.logbook...) }

// Install checks a manifest and image and activates them: dual signatures,
// model, newer version, security version not below the floor, digests and
// sizes (protocol.VerifyManifest and VerifyImage); then the image goes to
// the inactive slot, which is activated on trial and self-tested. On
// success the "installed" logbook entry confirms the trial and the floor is
// raised to the manifest's security version (only now, after the
// self-test, so a failed install cannot lock out the old software); on
// failure the old slot is active again. Every attempt is one logbook entry.
//
// The durable steps are ordered so that power lost between any two of them
// leaves a state the next boot settles (settleTrial): trial recorded, then
// the outcome entry, then the floor, then the trial cleared.
func (c *Core) Install(manifest, image []byte, party string, now int64) error {
	old := c.fw.Slots[c.fw.Active]
	entry := LogEntry{Time: now, Party: party, OldID: c.SoftwareID(), OldVersion: old.Version}
	if len(c.logbook) >= c.capacity {
		return ErrLogbookFull
	}
	pol := c.policy
	pol.InstalledVersion = old.Version
	pol.SecurityFloor = c.floor
	m, err := protocol.VerifyManifest(manifest, pol)
	if err == nil {
		err = c.checkImage(&m, image)
	}
	if err != nil {
		entry.Event, entry.Reason, entry.NewVersion = "rejected", err.Error(), m.Version
		if lerr := c.log(entry); lerr != nil {
			return lerr
		}
		return err
	}
	lrLen := 0
	if m.LR != nil {
		lrLen = int(m.LR.Size)
	}
	next := Slot{Version: m.Version, SecurityVersion: m.SecurityVersion, LR: image[:lrLen], Other: image[lrLen:]}
	if m.LR == nil {
		next.LR = old.LR // only the other part changes; the LR code stays
	}
	inactive := 1 - c.fw.Active
	prev := c.fw
	c.fw.Slots[inactive] = next
	c.fw.Active = inactive
	c.fw.Trial = &trial{Seq: len(c.logbook) + 1, Time: now, Party: party}
	if err := c.saveFirmware(); err != nil {
		c.fw = prev
		return err
	}
	newID := sha256.Sum256(next.LR)
	entry.NewID, entry.NewVersion = hex.EncodeToString(newID[:8]), next.Version
	if c.SelfTest != nil {
		if terr := c.SelfTest(next.LR); terr != nil {
			entry.Event, entry.Reason = "rolled back", terr.Error()
			if err := c.log(entry); err != nil {
				return err
			}
			c.fw.Active, c.fw.Trial = prev.Active, nil
			if err := c.saveFirmware(); err != nil {
				return err
			}
			return fmt.Errorf("%w: %v", ErrSelfTest, terr)
		}
	}
	entry.Event = "installed"
	if err := c.log(entry); err != nil {
		return err
	}
	c.id = newID
	if m.SecurityVersion > c.floor {
		c.floor = m.SecurityVersion
		if err := c.saveFloor(); err != nil {
			return err
		}
	}
	c.fw.Trial = nil
	return c.saveFirmware()
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
