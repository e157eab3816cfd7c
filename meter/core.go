package meter

import (
	"bytes"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"

	"github.com/verimeter/verimeter/protocol"
	"github.com/verimeter/verimeter/statemachine"
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

// cause classifies why a download attempt did not install, in its logbook
// entry (OIML D 31: the result of every attempt), so that an examiner and
// a test can tell the failure classes apart without parsing the reason.
type cause string

// The failure classes of a download attempt.
const (
	causeManifest  cause = "manifest refused"  // signatures, model, version or security version (protocol.VerifyManifest)
	causeDigest    cause = "digest mismatch"   // the image's size or SHA-256 differs from the manifest
	causeTransfer  cause = "transfer aborted"  // activation asked for an image not received whole
	causeSelfTest  cause = "self-test failed"  // the activated image failed its self-test: rolled back
	causePowerLoss cause = "power lost"        // the install was cut by power loss: settled at boot
	causeStore     cause = "slot write failed" // the slot image or the trial could not be written: the old software stays
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
	Cause cause  `json:"cause,omitempty"`
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
// whatever the images' size (journal.MaxRecordLen). HasLR and Signers are
// the image's manifest as spec/Firmware.tla abstracts it (whether it
// carries the legally relevant part, whose signatures verified), written
// only when they differ from a dual-signed legally relevant release.
type slotMeta struct {
	Version         uint32   `json:"version"`
	SecurityVersion uint32   `json:"security_version"`
	LRSize          uint32   `json:"lr_size"`
	LRDigest        digest   `json:"lr_digest"`
	OtherSize       uint32   `json:"other_size"`
	OtherDigest     digest   `json:"other_digest"`
	HasLR           bool     `json:"has_lr,omitempty"`
	Signers         []string `json:"signers,omitempty"`
}

// digest is a SHA-256 digest in a firmware record: written as hex, read
// as hex or as the array of numbers records held before.
type digest [32]byte

// MarshalJSON writes the digest as a hex string.
func (d digest) MarshalJSON() ([]byte, error) { return json.Marshal(hex.EncodeToString(d[:])) }

// UnmarshalJSON reads a hex string or an array of 32 numbers.
func (d *digest) UnmarshalJSON(b []byte) error {
	var h string
	if err := json.Unmarshal(b, &h); err != nil {
		var a [32]byte
		if err := json.Unmarshal(b, &a); err != nil {
			return err
		}
		*d = a
		return nil
	}
	x, err := hex.DecodeString(h)
	if err != nil || len(x) != len(d) {
		return fmt.Errorf("%w: digest %q", ErrStore, h)
	}
	copy(d[:], x)
	return nil
}

func metaOf(version, securityVersion uint32, lr, other []byte) *slotMeta {
	return &slotMeta{Version: version, SecurityVersion: securityVersion,
		LRSize: uint32(len(lr)), LRDigest: sha256.Sum256(lr), OtherSize: uint32(len(other)), OtherDigest: sha256.Sum256(other)}
}

// manifest is the slot's image as spec/Firmware.tla names it; without
// Signers (the factory image, a dual-signed release, a record written
// before the abstraction was kept) a dual-signed legally relevant one.
func (s *slotMeta) manifest() firmwareManifest {
	if s == nil {
		return firmwareManifest{}
	}
	m := firmwareManifest{V: int64(s.Version), Sv: int64(s.SecurityVersion), Lr: s.HasLR || s.Signers == nil}
	signers := s.Signers
	if signers == nil {
		signers = []string{"manufacturer", "authority"}
	}
	for _, x := range signers {
		m.Sigs.Insert(x, statemachine.CompareString)
	}
	return m
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

// firmwareRecord is the firmware record: the durable part of the state of
// the generated Firmware machine (spec/Firmware.tla) with the bytes'
// metadata the abstraction leaves out. Slots are the slots' records (rec0,
// rec1; nil: empty), Images what the slot files held when the record was
// written (img0, img1; a slot file written since is recognised at boot by
// its digest), Active the active slot, TSlot and TSeq the last attempt's
// target slot and logbook number, and Attempt the install in progress
// (trial), recorded before its image is written: it ends in the logbook
// whatever happens (DESIGN.md UC5, L2).
type firmwareRecord struct {
	Slots [2]*slotMeta `json:"slots"`
	// Images is written nil where the image is the slot's record, which
	// keeps the record small (decodeFirmware fills it in).
	Images  [2]*slotMeta `json:"images"`
	Spec    bool         `json:"spec,omitempty"` // written with Images, TSlot and TSeq
	Active  int          `json:"active"`
	TSlot   int          `json:"tslot,omitempty"`
	TSeq    int          `json:"tseq,omitempty"`
	Attempt *attempt     `json:"attempt,omitempty"`
}

// attempt is an install in progress: the logbook number its outcome entry
// gets, the target slot, the image's metadata, and what the entry says.
type attempt struct {
	Seq        int       `json:"seq"`
	Slot       int       `json:"slot"`
	Time       int64     `json:"time"`
	Party      string    `json:"party"`
	OldID      string    `json:"old_id"`
	NewID      string    `json:"new_id"`
	OldVersion uint32    `json:"old_version"`
	NewVersion uint32    `json:"new_version"`
	Meta       *slotMeta `json:"meta,omitempty"`
}

// firmwareMachine is the meter's generated machine of spec/Firmware.tla:
// every decision of the fixed core (accept or refuse an attempt, write the
// slot, activate on trial, the self-test's outcome, commit or roll back,
// the floor, each logbook entry, settling an interrupted attempt) is one
// of its steps, and each durable write follows a step's output (persist).
type firmwareMachine = statemachine.Instance[firmwareState, firmwareEvent, firmwareOutput]

// install is the attempt in progress in this boot: its image and metadata
// (volatile; after a power loss the attempt is settled from its record).
type install struct {
	image []byte
	meta  *slotMeta
}

// Core is the fixed legally relevant core: the generated Firmware machine
// and its I/O. Its state is persisted in the store (and the slot images in
// their files) before any effect is reported.
type Core struct {
	store    *Store
	slots    *slotFiles
	policy   protocol.ManifestPolicy // keys and model; version and floor come from the state
	fw       firmwareRecord          // the firmware record as last written
	floor    uint32                  // the durable floor
	logbook  []LogEntry
	capacity int
	// selfTest checks a freshly activated image; a failure rolls back
	// (Config.SelfTest).
	selfTest func(lr []byte) error
	id       [32]byte

	params firmwareParams
	m      firmwareMachine
	out    firmwareOutput
	cur    *install
	rec    *statemachine.Recorder
	entry  LogEntry // the details (time, party, software IDs) of the entry the next step writes
	why    string   // and its reason
}

// NewCore boots the core from store with the slot images beside the
// store's file on the operating system's filesystem (in memory for a store
// kept in memory).
func NewCore(store *Store, policy protocol.ManifestPolicy, factory Slot, capacity int) (*Core, error) {
	return newCoreFS(nil, storeDir(store), store, policy, factory, capacity)
}

// newCoreFS boots the core without recording its steps; see newCoreTrace.
func newCoreFS(fsys journal.FS, dir string, store *Store, policy protocol.ManifestPolicy, factory Slot, capacity int) (*Core, error) {
	return newCoreTrace(fsys, dir, store, policy, factory, capacity, nil)
}

// newCoreTrace loads the core's state from the store and its slot images
// from dir through fsys (nil: the operating system's; dir "": in memory),
// or installs the factory image when the store is empty; settles an
// install that power loss interrupted (the machine's Fault, then its
// settling steps); and computes the software ID of the active legally
// relevant code from its slot image, as at every boot. An active image
// that does not match its record is ErrSlotImage. With rec set, every step
// of the Firmware machine is recorded for trace validation.
func newCoreTrace(fsys journal.FS, dir string, store *Store, policy protocol.ManifestPolicy, factory Slot, capacity int, rec *statemachine.Recorder) (*Core, error) {
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
	c.params = firmwareParams{FactoryV: int64(factory.Version), FactorySv: int64(factory.SecurityVersion), LogCap: int64(capacity), Store: c}
	switch {
	case !found:
		// First boot: the factory image goes to slot A, then its record:
		// the machine's initial state.
		if err := c.slots.write(0, append(bytes.Clone(factory.LR), factory.Other...)); err != nil {
			return nil, err
		}
		f := metaOf(factory.Version, factory.SecurityVersion, factory.LR, factory.Other)
		c.fw = firmwareRecord{Slots: [2]*slotMeta{f}, Images: [2]*slotMeta{f}, TSlot: 1}
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
	st, err := c.recovered()
	if err != nil {
		return nil, err
	}
	c.m = firmwareMachine{Role: "meter", Name: "meter", Step: c.params.Step, State: st, Rec: rec,
		Action: func(o *firmwareOutput) string { return o.Action }, Persist: c.persist}
	c.m.Resume()
	c.m.Rec, c.rec = nil, rec // step records the logbook (the machine's @store) with the state
	if st, err = c.logUnloggedFirmware(st); err != nil {
		return nil, err
	}
	c.m.State = st
	if a := c.fw.Attempt; a != nil {
		// Power was lost during an install: a step of the spec (Fault),
		// then the attempt is settled from what is durable.
		c.entryOf(a)
		c.why = "power lost before the self-test passed; rolled back at boot"
		if err := c.step(firmwareEvent{Kind: firmwareFault, C: string(causePowerLoss)}); err != nil {
			return nil, err
		}
		if err := c.finish(); err != nil {
			return nil, err
		}
	}
	lr, err := c.readSlot(c.fw.Active)
	if err != nil {
		return nil, err
	}
	c.id = sha256.Sum256(lr)
	return c, nil
}

// recovered is the machine's state as the durable records and the slot
// files give it; the core's volatile position is idle.
func (c *Core) recovered() (firmwareState, error) {
	f := &c.fw
	if !f.Spec { // a record written before the machine's state was recorded
		f.Images, f.Spec = f.Slots, true
		f.TSlot = 1 - f.Active
		if f.Attempt != nil {
			f.TSlot = f.Attempt.Slot
		}
		f.TSeq = len(c.logbook)
	}
	st := firmwareState{Rec0: f.Slots[0].manifest(), Rec1: f.Slots[1].manifest(), Act: int64(f.Active),
		Tslot: int64(f.TSlot), Tseq: int64(f.TSeq), Floor: int64(c.floor), VerifierIntact: true,
		Entries: int64(len(c.logbook)), Pc: "idle"}
	if a := f.Attempt; a != nil {
		if a.Meta == nil { // recorded before the attempt kept its image's metadata
			a.Meta = f.Slots[a.Slot]
			if a.Meta == nil {
				a.Meta = &slotMeta{Version: a.NewVersion, HasLR: true, Signers: []string{"manufacturer", "authority"}}
			}
		}
		st.Trial, st.Tslot, st.Tseq = a.Meta.manifest(), int64(a.Slot), int64(a.Seq)
	}
	for i := range f.Images {
		img := firmwareManifest{}
		if b, err := c.slots.read(i); err == nil {
			switch {
			case f.Images[i] != nil && okImage(f.Images[i], b):
				img = f.Images[i].manifest()
			case f.Attempt != nil && f.Attempt.Slot == i && okImage(f.Attempt.Meta, b):
				img = f.Attempt.Meta.manifest() // written after the attempt was recorded
			}
		}
		if i == 0 {
			st.Img0 = img
		} else {
			st.Img1 = img
		}
	}
	return st, nil
}

func okImage(m *slotMeta, b []byte) bool {
	_, err := m.check(b)
	return err == nil
}

// LogbookHas is the Firmware machine's @store logbook: entry x is the
// logbook's entry number x.n, with its outcome, version and cause.
func (c *Core) LogbookHas(x firmwareEntry) bool {
	n := int(x.N)
	if n < 1 || n > len(c.logbook) {
		return false
	}
	e := c.logbook[n-1]
	return e.Event == x.Outcome && int64(e.NewVersion) == x.V && string(e.Cause) == x.Cause
}

// step applies one event to the Firmware machine (persisted by persist
// before it counts, recorded when the core has a recorder: the machine's
// state with the logbook, the @store the meter keeps in its journal, so
// that trace validation checks the entries too).
func (c *Core) step(ev firmwareEvent) error {
	now, err := c.m.Apply(0, ev, &c.out)
	if err != nil || c.rec == nil {
		return err
	}
	st := tracedFirmware{firmwareState: c.m.State, Logbook: make([]firmwareEntry, len(c.logbook))}
	for i, e := range c.logbook {
		st.Logbook[i] = firmwareEntry{N: int64(e.Seq), V: int64(e.NewVersion), Outcome: e.Event, Cause: string(e.Cause)}
	}
	if err := c.rec.Record(c.m.Role, c.m.Name, now, c.out.Action, ev, st); err != nil {
		return fmt.Errorf("statemachine: recording %s: %w", c.out.Action, err)
	}
	return nil
}

// tracedFirmware is a logged state of the Firmware machine: its state and
// the logbook, in the spec's names.
type tracedFirmware struct {
	firmwareState
	Logbook []firmwareEntry `json:"logbook"`
}

// persist makes a step of the machine durable, as its output asks: the
// logbook entries it adds, the slot file, the floor, or the firmware
// record.
func (c *Core) persist(s *firmwareState, o *firmwareOutput) error {
	for _, x := range o.LogbookAdd {
		e := c.entry
		e.Event, e.Cause, e.NewVersion, e.Reason = x.Outcome, cause(x.Cause), uint32(x.V), c.why
		if e.Event == "installed" {
			e.Reason = ""
		}
		if int(x.N) != len(c.logbook)+1 {
			return fmt.Errorf("%w: logbook entry %d after %d", ErrStore, x.N, len(c.logbook))
		}
		if err := c.log(e); err != nil {
			return err
		}
	}
	switch o.Action {
	case "WriteSlot":
		if c.cur == nil {
			return fmt.Errorf("%w: no image to write", ErrStore)
		}
		if err := c.slots.write(int(s.Tslot), c.cur.image); err != nil {
			return err
		}
		c.fw.Images[s.Tslot] = c.cur.meta // what the file now holds; recorded with the activation
		return nil
	case "RaiseFloor":
		if f := uint32(s.Floor); f > c.floor {
			prev := c.floor
			c.floor = f
			if err := c.saveFloor(); err != nil {
				c.floor = prev
				return err
			}
		}
	case "Offer", "Activate", "Clear", "RollBack":
		if len(o.LogbookAdd) > 0 {
			return nil
		}
		prev := c.fw
		c.fw = c.record(s)
		if err := c.saveFirmware(); err != nil {
			c.fw = prev
			return err
		}
	}
	return nil
}

// record is the firmware record of machine state s: each slot's record
// and image by the metadata of the image the manifest names.
func (c *Core) record(s *firmwareState) firmwareRecord {
	var cands []*slotMeta
	if c.cur != nil {
		cands = append(cands, c.cur.meta)
	}
	if a := c.fw.Attempt; a != nil {
		cands = append(cands, a.Meta)
	}
	cands = append(cands, c.fw.Slots[0], c.fw.Slots[1], c.fw.Images[0], c.fw.Images[1])
	find := func(m firmwareManifest) *slotMeta {
		if m == (firmwareManifest{}) {
			return nil
		}
		for _, x := range cands {
			if x != nil && x.manifest() == m {
				return x
			}
		}
		return nil
	}
	// A slot keeps its own metadata while its manifest is unchanged (two
	// images may share a manifest: a build that failed its self-test and
	// the next one of the same version).
	keep := func(m firmwareManifest, prev *slotMeta) *slotMeta {
		if prev != nil && prev.manifest() == m {
			return prev
		}
		return find(m)
	}
	f := firmwareRecord{Slots: [2]*slotMeta{keep(s.Rec0, c.fw.Slots[0]), keep(s.Rec1, c.fw.Slots[1])},
		Images: [2]*slotMeta{keep(s.Img0, c.fw.Images[0]), keep(s.Img1, c.fw.Images[1])},
		Active: int(s.Act), TSlot: int(s.Tslot), TSeq: int(s.Tseq)}
	if s.Trial != (firmwareManifest{}) {
		if c.fw.Attempt != nil && c.fw.Attempt.Seq == int(s.Tseq) {
			f.Attempt = c.fw.Attempt
		} else {
			e := c.entry
			f.Attempt = &attempt{Seq: int(s.Tseq), Slot: int(s.Tslot), Time: e.Time, Party: e.Party, OldID: e.OldID, NewID: e.NewID,
				OldVersion: e.OldVersion, NewVersion: uint32(s.Trial.V), Meta: find(s.Trial)}
		}
	}
	return f
}

// entryOf sets the details of the entries an attempt's steps write.
func (c *Core) entryOf(a *attempt) {
	c.entry = LogEntry{Time: a.Time, Party: a.Party, OldID: a.OldID, NewID: a.NewID, OldVersion: a.OldVersion}
}

// finish drives an attempt that did not end to its end, from the core's
// position: settle it, then commit or roll back. Each step is idempotent
// on what is durable, so a failure here is finished at the next attempt
// or boot.
func (c *Core) finish() error {
	for {
		var ev firmwareEvent
		switch c.m.State.Pc {
		case "idle":
			return nil
		case "settle":
			ev.Kind = firmwareSettle
		case "commit":
			ev.Kind = firmwareRaiseFloor
		case "clear":
			ev.Kind = firmwareClear
		case "rollback":
			ev.Kind = firmwareRollback
		default: // an install step whose write failed without its fault
			ev = firmwareEvent{Kind: firmwareFault, C: string(causeStore)}
		}
		if err := c.step(ev); err != nil {
			return err
		}
	}
}

// fault ends an attempt whose durable step failed with err: the machine's
// Fault (a failed write), then it is settled: logged as rolled back
// (causeStore) with the old slot active. If even that cannot be written,
// the attempt stays recorded and the next attempt or boot settles it.
func (c *Core) fault(err error) error {
	c.why = err.Error()
	if ferr := c.step(firmwareEvent{Kind: firmwareFault, C: string(causeStore)}); ferr != nil {
		return errors.Join(err, ferr)
	}
	if ferr := c.finish(); ferr != nil {
		return errors.Join(err, ferr)
	}
	return err
}

func (c *Core) saveFirmware() error {
	f := c.fw
	f.Spec = true
	for i, m := range f.Images {
		if s := f.Slots[i]; m == s || m != nil && s != nil && reflect.DeepEqual(*m, *s) {
			f.Images[i] = nil
		}
	}
	if a := f.Attempt; a != nil && a.Meta != nil && f.Slots[a.Slot] != nil && reflect.DeepEqual(*a.Meta, *f.Slots[a.Slot]) {
		short := *a
		short.Meta = nil // the slot's record, once activated
		f.Attempt = &short
	}
	b, err := json.Marshal(f)
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

// SoftwareID is the SHA-256 of the active legally relevant code, computed
// at boot from its slot image and after each activation from the image
// read back from its slot; the display shows it.
func (c *Core) SoftwareID() string { return hex.EncodeToString(c.id[:8]) }

// Version is the active legally relevant version.
func (c *Core) Version() uint32 { return c.fw.Slots[c.fw.Active].Version }

// securityFloor is the committed security-version floor.
func (c *Core) securityFloor() uint32 { return c.floor }

// Logbook returns a copy of the logbook.
func (c *Core) Logbook() []LogEntry { return append([]LogEntry(nil), c.logbook...) }

func softwareID(lr []byte) string {
	d := sha256.Sum256(lr)
	return hex.EncodeToString(d[:8])
}

// start finishes what an earlier failed write left.
func (c *Core) start() error {
	c.cur = nil
	if c.m.State.Pc != "idle" {
		if a := c.fw.Attempt; a != nil {
			c.entryOf(a)
		}
		c.why = "a write of the previous attempt failed; the old software stayed active"
		return c.finish()
	}
	return nil
}

// offer steps the machine's Offer: the attempt is refused (its logbook
// entry written, and refusal returned) or admitted (nil). With the logbook
// full the machine refuses the step: ErrLogbookFull, nothing written.
func (c *Core) offer(m firmwareManifest, chk string, refusal error) error {
	if err := c.step(firmwareEvent{Kind: firmwareOffer, M: m, Chk: chk}); err != nil {
		if errors.Is(err, statemachine.ErrNotEnabled) && c.m.State.Entries >= c.params.LogCap {
			return fmt.Errorf("%w: %d of %d entries", ErrLogbookFull, len(c.logbook), c.capacity)
		}
		return err
	}
	if c.m.State.Pc == "admitted" {
		return nil
	}
	if refusal == nil {
		refusal = fmt.Errorf("%w: v%d refused", protocol.ErrManifest, m.V)
	}
	return refusal
}

// abstract checks a manifest's signatures (and its model, version and
// security version, for the reason of a refusal) with protocol.VerifyManifest
// and returns it as the Firmware machine sees it: its versions, whether it
// carries the legally relevant part, and whose signatures verified (the
// machine decides on them, the version and the floor). A manifest for
// another model counts as signed by no one.
func (c *Core) abstract(manifest []byte) (protocol.Manifest, firmwareManifest, error) {
	pol := c.policy
	pol.InstalledVersion, pol.SecurityFloor = c.Version(), c.floor
	m, err := protocol.VerifyManifest(manifest, pol)
	a := firmwareManifest{V: int64(m.Version), Sv: int64(m.SecurityVersion), Lr: m.LR != nil}
	switch {
	case err == nil, errors.Is(err, protocol.ErrManifestVersion), errors.Is(err, protocol.ErrManifestDowngrade):
		a.Sigs.Insert("manufacturer", statemachine.CompareString)
		if m.LR != nil {
			a.Sigs.Insert("authority", statemachine.CompareString)
		}
	case errors.Is(err, protocol.ErrManifestAuthority):
		a.Sigs.Insert("manufacturer", statemachine.CompareString)
	}
	return m, a, err
}

// abort logs a download attempt whose image did not arrive whole when its
// activation was asked for (causeTransfer), and returns why; with the
// logbook full it is ErrLogbookFull and nothing is written. The version in
// the entry is the one the manifest claims, if it parses.
func (c *Core) abort(manifest []byte, party string, now int64, why error) error {
	if err := c.start(); err != nil {
		return err
	}
	_, a, _ := c.abstract(manifest)
	c.entry = LogEntry{Time: now, Party: party, OldID: c.SoftwareID(), OldVersion: c.Version()}
	c.why = why.Error()
	return c.offer(a, string(causeTransfer), why)
}

// install checks a manifest and image and installs them through the
// Firmware machine. The signatures (protocol.VerifyManifest) and the
// image's sizes and digests (protocol.VerifyImage) are checked first and
// are the event's fields; the machine decides: refused (dual signatures
// for the legally relevant part, a newer version, a security version not
// below the floor, an intact image) with its logbook entry, or admitted.
// Then each durable write is a step: the attempt recorded with its target
// slot emptied, the image in the inactive slot's file (temporary file,
// fsync, rename, directory fsync), the slot recorded and activated on
// trial; the installed code is read back and self-tested; the outcome's
// logbook entry; on success the floor raised to the manifest's security
// version (only now, after the self-test, so a failed install cannot lock
// out the old software) and the attempt cleared; on failure the old slot
// active again. Power lost between any two steps leaves a state the next
// boot settles. Every attempt is one logbook entry, failed ones included;
// with the logbook full the attempt is refused (ErrLogbookFull) and
// nothing is written.
func (c *Core) install(manifest, image []byte, party string, now int64) error {
	if err := c.start(); err != nil {
		return err
	}
	c.entry = LogEntry{Time: now, Party: party, OldID: c.SoftwareID(), OldVersion: c.Version()}
	m, a, err := c.abstract(manifest)
	chk := "ok"
	if err == nil {
		if ierr := c.checkImage(&m, image); ierr != nil {
			chk, err = string(causeDigest), ierr
		}
	}
	if m.LR != nil && int64(m.LR.Size) <= int64(len(image)) {
		c.entry.NewID = softwareID(image[:m.LR.Size]) // what was offered
	}
	if err != nil {
		c.why = err.Error()
		return c.offer(a, chk, err)
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
		c.entry.NewID = softwareID(lr)
	}
	meta := metaOf(m.Version, m.SecurityVersion, lr, other)
	if !a.Lr || a.Sigs.Len() != 2 {
		meta.HasLR, meta.Signers = a.Lr, a.Sigs.Elems()
	}
	c.cur = &install{image: append(bytes.Clone(lr), other...), meta: meta}
	defer func() { c.cur = nil }()
	if err := c.offer(a, chk, nil); err != nil {
		return err
	}
	if err := c.step(firmwareEvent{Kind: firmwareWrite}); err != nil {
		return c.fault(err)
	}
	if err := c.step(firmwareEvent{Kind: firmwareActivate}); err != nil {
		return c.fault(err)
	}
	// The installed code, read back from its slot: the self-test and the
	// software ID are of what is installed, not of what was received.
	installed, err := c.readSlot(int(c.m.State.Tslot))
	if err != nil {
		return c.fault(err)
	}
	if c.selfTest != nil {
		if terr := c.selfTest(installed); terr != nil {
			c.why = terr.Error()
			if err := c.step(firmwareEvent{Kind: firmwareSelftestFail}); err != nil {
				return c.fault(err)
			}
			if err := c.finish(); err != nil {
				return err
			}
			return fmt.Errorf("%w: %w", ErrSelfTest, terr)
		}
	}
	if err := c.step(firmwareEvent{Kind: firmwareSelftestPass}); err != nil {
		return c.fault(err)
	}
	c.id = sha256.Sum256(installed)
	return c.finish() // the commit: floor raised, attempt cleared
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
func decodeFirmware(b []byte) (firmwareRecord, *legacyFirmware, error) {
	var probe struct {
		Slots [2]map[string]json.RawMessage `json:"slots"`
	}
	if err := json.Unmarshal(b, &probe); err != nil {
		return firmwareRecord{}, nil, err
	}
	if _, ok := probe.Slots[0]["lr"]; ok {
		var l legacyFirmware
		if err := json.Unmarshal(b, &l); err != nil {
			return firmwareRecord{}, nil, err
		}
		if l.Active < 0 || l.Active > 1 || l.Slots[l.Active] == nil {
			return firmwareRecord{}, nil, errors.New("no active slot")
		}
		return firmwareRecord{Active: l.Active}, &l, nil
	}
	var f firmwareRecord
	if err := json.Unmarshal(b, &f); err != nil {
		return firmwareRecord{}, nil, err
	}
	for i, m := range f.Images {
		if m == nil {
			f.Images[i] = f.Slots[i]
		}
	}
	if a := f.Attempt; a != nil && a.Meta == nil && f.Spec {
		a.Meta = f.Slots[a.Slot]
	}
	if f.Active < 0 || f.Active > 1 || f.Slots[f.Active] == nil || f.Attempt != nil && (f.Attempt.Slot < 0 || f.Attempt.Slot > 1 || f.Attempt.Seq < 1) {
		return firmwareRecord{}, nil, errors.New("no active slot, or a malformed attempt")
	}
	return f, nil, nil
}

// migrate moves the images of a legacy firmware record to their slot files
// and records the slots' metadata; a legacy trial becomes the attempt,
// settled as at any boot. Power lost before the new record leaves the
// legacy one, and the migration runs again.
func (c *Core) migrate(l *legacyFirmware) error {
	f := firmwareRecord{Active: l.Active}
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
