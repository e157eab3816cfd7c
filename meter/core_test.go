package meter

import (
	"bytes"
	"crypto/rand"
	"crypto/sha256"
	b64 "encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/verimeter/verimeter/protocol"
	"github.com/verimeter/verimeter/statemachine/journal/crashfs"
)

// TestInstallSurvivesPowerLossAtEveryWrite installs three images (one
// passes its self-test, one fails it, one passes and raises the security
// floor) through a recorded filesystem, then boots the legally relevant
// core from the state power loss after every durable step leaves (journal
// records, slot image writes, renames, directory fsyncs; the last unsynced
// write also torn, zero-filled or dropped). After every boot the attempt
// in progress is settled (complete or rolled back, never pending), the
// active slot's image verifies, the logbook chains each attempt from the
// software that was active, the active software and its ID (computed from
// the slot image) are the last ones the logbook says were installed, and
// the floor is that of the installed versions. A second boot changes
// nothing.
func TestInstallSurvivesPowerLossAtEveryWrite(t *testing.T) {
	k := newKit(t, "")
	fsys := crashfs.New()
	fsys.Record()
	initial := fsys.Snapshot()
	pol := protocol.ManifestPolicy{Model: k.cfg.Model, Manufacturers: k.cfg.Manufacturers, Authorities: k.cfg.Authorities}
	boot := func(fsys *crashfs.MemFS) (*Core, *Store, error) {
		st, err := openStoreFS(fsys, "/m/meter.log")
		if err != nil {
			return nil, nil, err
		}
		c, err := newCoreFS(fsys, "/m", st, pol, k.cfg.Factory, 64)
		if err != nil {
			st.Close()
			return nil, nil, err
		}
		return c, st, nil
	}
	c, st, err := boot(fsys)
	if err != nil {
		t.Fatal(err)
	}
	install := func(version, sv uint32, failSelfTest bool) {
		lr := []byte(strings.Repeat("lr v", int(version)))
		other := []byte("comm")
		m := protocol.Manifest{Model: "VM-E3", Version: version, SecurityVersion: sv, LR: protocol.NewComponent(lr), Other: protocol.NewComponent(other), Issued: 1}
		signed, err := protocol.SignManifest(m, rand.Reader, k.man, k.auth)
		if err != nil {
			t.Fatal(err)
		}
		c.selfTest = nil
		if failSelfTest {
			c.selfTest = func([]byte) error { return errors.New("calibration table checksum") }
		}
		err = c.install(signed, append(lr, other...), "test", int64(version))
		if failSelfTest != errors.Is(err, ErrSelfTest) || !failSelfTest && err != nil {
			t.Fatalf("install v%d: %v", version, err)
		}
	}
	install(5, 2, false)
	install(6, 3, true)
	install(7, 4, false)
	if c.Version() != 7 || c.securityFloor() != 4 {
		t.Fatalf("after the installs: v%d floor %d", c.Version(), c.securityFloor())
	}
	st.Close()
	factoryID := sha256.Sum256(k.cfg.Factory.LR)
	secVersion := map[uint32]uint32{4: 2, 5: 2, 7: 4}
	settledRollbacks, versions := 0, map[uint32]int{}
	ops := fsys.Ops()
	res := crashfs.Replay(initial, ops, func(fsys *crashfs.MemFS, _ int) error {
		c, st, err := boot(fsys)
		if err != nil {
			return fmt.Errorf("the core does not boot: %w", err)
		}
		defer st.Close()
		if c.fw.Attempt != nil {
			return errors.New("an attempt is still pending after boot")
		}
		version, id, floor := uint32(4), hex.EncodeToString(factoryID[:8]), uint32(2)
		lb := c.Logbook()
		for i, e := range lb {
			if e.Seq != i+1 || e.OldVersion != version || e.OldID != id {
				return fmt.Errorf("logbook entry %+v does not follow v%d %s", e, version, id)
			}
			switch e.Event {
			case "installed":
				version, id, floor = e.NewVersion, e.NewID, max(floor, secVersion[e.NewVersion])
			case "rolled back":
				if e.Cause == causePowerLoss {
					settledRollbacks++
				} else if e.Cause != causeSelfTest {
					return fmt.Errorf("rollback entry %+v: cause %q", e, e.Cause)
				}
			default:
				return fmt.Errorf("unexpected entry %+v", e)
			}
		}
		if c.Version() != version || c.SoftwareID() != id || c.securityFloor() != floor {
			return fmt.Errorf("v%d %s floor %d active; the logbook says v%d %s floor %d", c.Version(), c.SoftwareID(), c.securityFloor(), version, id, floor)
		}
		versions[version]++
		st.Close()
		c2, st2, err := boot(fsys)
		if err != nil {
			return fmt.Errorf("second boot: %w", err)
		}
		defer st2.Close()
		if c2.Version() != version || c2.SoftwareID() != id || len(c2.Logbook()) != len(lb) || c2.securityFloor() != floor {
			return errors.New("a second boot changed the state")
		}
		return nil
	})
	t.Logf("%s (%s): active versions %v, %d installs rolled back at boot", res.Line("meter-core"), crashfs.Summary(ops), versions, settledRollbacks)
	for _, f := range res.Failed {
		t.Error(f)
	}
	if settledRollbacks == 0 || versions[5] == 0 || versions[7] == 0 {
		t.Fatalf("the crash points exercised too little: %d rollbacks at boot, versions %v", settledRollbacks, versions)
	}
}

// TestLargeInstallsFitAndSurviveRestart: three installs of 512 KiB images
// in a row succeed (the firmware record once held both slots' images and
// no longer fitted one journal record at the second); the journal holds
// only the slots' metadata, the images are files of their own; after a
// restart the active version is the last one and its software ID is the
// SHA-256 of its legally relevant code as read from its slot at boot. A
// slot image altered on disk stops the meter with ErrSlotImage.
func TestLargeInstallsFitAndSurviveRestart(t *testing.T) {
	dir := t.TempDir()
	k := newKit(t, dir)
	m, err := New(k.cfg)
	if err != nil {
		t.Fatal(err)
	}
	k.agree(t, m)
	const half = 256 << 10
	var lr []byte
	for i, v := range []uint32{5, 6, 7} {
		lr = make([]byte, half)
		other := make([]byte, half)
		rand.Read(lr)
		rand.Read(other)
		man := protocol.Manifest{Model: "VM-E3", Version: v, SecurityVersion: 3, LR: protocol.NewComponent(lr), Other: protocol.NewComponent(other), Issued: 1}
		if r := k.install(t, m, uint32(i+1), man, append(bytes.Clone(lr), other...), k.man, k.auth); r.Status != protocol.StatusOK || m.core.Version() != v {
			t.Fatalf("install %d of a 512 KiB image (v%d): %+v, v%d active", i+1, v, r, m.core.Version())
		}
		if m.core.SoftwareID() != softwareID(lr) {
			t.Fatalf("v%d: software ID %s, SHA-256 of its LR code %s", v, m.core.SoftwareID(), softwareID(lr))
		}
	}
	for _, r := range m.store.Records() {
		if r.Kind == recFirmware && len(r.Data) > 1024 {
			t.Fatalf("a firmware record of %d bytes: the journal holds images", len(r.Data))
		}
	}
	m = reopen(t, k, m)
	if m.core.Version() != 7 || m.core.SoftwareID() != softwareID(lr) || len(m.core.Logbook()) != 3 {
		t.Fatalf("after a restart: v%d ID %s, logbook %d; want v7 %s, 3", m.core.Version(), m.core.SoftwareID(), len(m.core.Logbook()), softwareID(lr))
	}
	active := filepath.Join(dir, slotNames[m.core.fw.Active])
	img, err := os.ReadFile(active)
	if err != nil || len(img) != 2*half || !bytes.Equal(img[:half], lr) {
		t.Fatalf("active slot file %s: %d bytes, %v", active, len(img), err)
	}
	m.Close()
	img[17] ^= 1
	if err := os.WriteFile(active, img, 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := New(k.cfg); !errors.Is(err, ErrSlotImage) {
		t.Fatalf("a meter whose active slot image was altered: %v, want ErrSlotImage", err)
	}
}

// transferWithout sends a campaign's manifest and every block of image
// but skip (all when skip < 0), then asks for its activation.
func (k *kit) transferWithout(t *testing.T, m *Meter, campaign uint32, man protocol.Manifest, image []byte, skip int) protocol.PDU {
	mf, err := protocol.SignManifest(man, rand.Reader, k.man, k.auth)
	if err != nil {
		t.Fatal(err)
	}
	k.ask(t, m, protocol.TagCommand, protocol.PDU{Kind: protocol.PDUManifest, Campaign: campaign, Body: mf})
	total := (len(image) + protocol.MaxFirmwareBlock - 1) / protocol.MaxFirmwareBlock
	for i := range total {
		if i == skip || skip < 0 {
			continue
		}
		fb := protocol.FirmwareBlock{Campaign: campaign, Index: uint16(i), Total: uint16(total), Data: image[i*protocol.MaxFirmwareBlock : min(len(image), (i+1)*protocol.MaxFirmwareBlock)]}
		b, _ := fb.Marshal()
		k.ask(t, m, protocol.TagFirmwareBlock, protocol.PDU{Kind: protocol.PDUFirmwareBlock, Body: b})
	}
	return k.ask(t, m, protocol.TagCommand, protocol.PDU{Kind: protocol.PDUActivate, Campaign: campaign})
}

// TestEveryFailedAttemptIsLogged: every class of failed download attempt
// is one logbook entry with its result, cause, previous and new software
// ID and version, time and party, and is still there after a restart:
// manifest refused, digest mismatch, transfer aborted (a block missing, no
// block at all), slot write failed, self-test failed (rolled back). With
// the logbook full the next attempt is refused with ErrLogbookFull and
// overwrites nothing.
func TestEveryFailedAttemptIsLogged(t *testing.T) {
	fsys := crashfs.New()
	var slotFail error
	fsys.Fail = func(kind crashfs.OpKind, name string) error {
		if slotFail != nil && strings.Contains(name, "slot-") {
			return slotFail
		}
		return nil
	}
	k := newKit(t, "/m")
	k.cfg.fs = fsys
	k.cfg.LogbookCapacity = 7
	failSelfTest := false // the manufacturer's self-test, given in Config
	k.cfg.SelfTest = func([]byte) error {
		if failSelfTest {
			return errors.New("calibration table checksum")
		}
		return nil
	}
	m, err := New(k.cfg)
	if err != nil {
		t.Fatal(err)
	}
	k.agree(t, m)
	oldID := m.core.SoftwareID()
	lr, other := make([]byte, 300), make([]byte, 200)
	rand.Read(lr)
	rand.Read(other)
	newID := softwareID(lr)
	image := append(bytes.Clone(lr), other...)
	man := protocol.Manifest{Model: "VM-E3", Version: 5, SecurityVersion: 3, LR: protocol.NewComponent(lr), Other: protocol.NewComponent(other), Issued: 1}
	const now = 86400*20000 + 3600 // kit.ask's time
	type want struct {
		event string
		cause cause
		newID string
		err   string
	}
	var wants []want
	step := func(name string, r protocol.PDU, w want) {
		t.Helper()
		if r.Status != protocol.StatusRejected || !strings.Contains(r.Detail, w.err) {
			t.Fatalf("%s: %+v, want refused with %q", name, r, w.err)
		}
		if m.core.Version() != 4 || m.core.SoftwareID() != oldID {
			t.Fatalf("%s: v%d %s active", name, m.core.Version(), m.core.SoftwareID())
		}
		wants = append(wants, w)
	}
	step("manufacturer signature only", k.install(t, m, 1, man, image, k.man), want{"rejected", causeManifest, newID, protocol.ErrManifestAuthority.Error()})
	bad := bytes.Clone(image)
	bad[400] ^= 0xff
	step("digest mismatch", k.install(t, m, 2, man, bad, k.man, k.auth), want{"rejected", causeDigest, newID, protocol.ErrImageDigest.Error()})
	step("block missing", k.transferWithout(t, m, 3, man, image, 2), want{"rejected", causeTransfer, "", "block 2 of 4 missing"})
	step("no block", k.transferWithout(t, m, 4, man, image, -1), want{"rejected", causeTransfer, "", "no block"})
	slotFail = syscall.ENOSPC
	step("slot write failed", k.install(t, m, 5, man, image, k.man, k.auth), want{"rolled back", causeStore, newID, syscall.ENOSPC.Error()})
	slotFail = nil
	failSelfTest = true
	step("self-test failed", k.install(t, m, 6, man, image, k.man, k.auth), want{"rolled back", causeSelfTest, newID, "calibration table checksum"})
	failSelfTest = false
	check := func(when string, lb []LogEntry) {
		t.Helper()
		if len(lb) != len(wants) {
			t.Fatalf("%s: %d logbook entries for %d attempts: %+v", when, len(lb), len(wants), lb)
		}
		for i, e := range lb {
			w := wants[i]
			if e.Seq != i+1 || e.Event != w.event || e.Cause != w.cause || e.OldID != oldID || e.OldVersion != 4 || e.NewID != w.newID || e.NewVersion != 5 ||
				e.Time != now || e.Party != fmt.Sprintf("head-end campaign %d", i+1) || !strings.Contains(e.Reason, w.err) {
				t.Fatalf("%s: logbook entry %d %+v, want %+v", when, i+1, e, w)
			}
		}
	}
	check("before the restart", m.core.Logbook())
	m = reopen(t, k, m)
	check("after a restart", m.core.Logbook())
	k.agree(t, m)
	// The seventh attempt fills the logbook (installed); the eighth is
	// refused without an entry, also after a restart.
	if r := k.install(t, m, 7, man, image, k.man, k.auth); r.Status != protocol.StatusOK || m.core.Version() != 5 {
		t.Fatalf("install into the last logbook entry: %+v", r)
	}
	full := m.core.Logbook()
	man.Version = 6
	if err := m.core.install(nil, nil, "operator", now); !errors.Is(err, ErrLogbookFull) {
		t.Fatalf("attempt with the logbook full: %v, want ErrLogbookFull", err)
	}
	if r := k.install(t, m, 8, man, image, k.man, k.auth); r.Status != protocol.StatusRejected || !strings.Contains(r.Detail, ErrLogbookFull.Error()) {
		t.Fatalf("download with the logbook full: %+v", r)
	}
	if r := k.transferWithout(t, m, 9, man, image, 0); r.Status != protocol.StatusRejected || !strings.Contains(r.Detail, ErrLogbookFull.Error()) {
		t.Fatalf("aborted transfer with the logbook full: %+v", r)
	}
	m = reopen(t, k, m)
	defer m.Close()
	if lb := m.core.Logbook(); fmt.Sprint(lb) != fmt.Sprint(full) || m.core.Version() != 5 {
		t.Fatalf("a full logbook changed: %+v, v%d", lb, m.core.Version())
	}
}

// TestLegacyFirmwareRecordMigrates: a journal written before the slot
// images moved to files (images inline in the firmware record, an install
// on trial) boots: the images go to their slot files, the journal records
// only their metadata, the trial without its "installed" entry is rolled
// back and logged, and the software ID is computed from the slot file.
func TestLegacyFirmwareRecordMigrates(t *testing.T) {
	k := newKit(t, "")
	fsys := crashfs.New()
	st, err := openStoreFS(fsys, "/m/meter.log")
	if err != nil {
		t.Fatal(err)
	}
	f := k.cfg.Factory
	legacy := fmt.Sprintf(`{"slots":[{"version":4,"security_version":2,"lr":%q,"other":%q},{"version":5,"security_version":3,"lr":%q,"other":%q}],"active":1,"trial":{"seq":1,"time":7,"party":"old"}}`,
		base64(f.LR), base64(f.Other), base64([]byte("lr v5")), base64([]byte("comm v5")))
	if err := st.Append(recFirmware, []byte(legacy), true); err != nil {
		t.Fatal(err)
	}
	if name, summary := DescribeRecord(recFirmware, []byte(legacy)); name != "firmware" || !strings.Contains(summary, "inline") {
		t.Fatalf("legacy record described as %q %q", name, summary)
	}
	pol := protocol.ManifestPolicy{Model: k.cfg.Model, Manufacturers: k.cfg.Manufacturers, Authorities: k.cfg.Authorities}
	c, err := newCoreFS(fsys, "/m", st, pol, f, 64)
	if err != nil {
		t.Fatal(err)
	}
	lb := c.Logbook()
	if c.Version() != 4 || c.SoftwareID() != softwareID(f.LR) || len(lb) != 1 || lb[0].Event != "rolled back" || lb[0].Cause != causePowerLoss || lb[0].NewID != softwareID([]byte("lr v5")) || lb[0].Party != "old" {
		t.Fatalf("after migration: v%d %s, logbook %+v", c.Version(), c.SoftwareID(), lb)
	}
	if b, err := fsys.ReadFile("/m/slot-b.img"); err != nil || string(b) != "lr v5comm v5" {
		t.Fatalf("slot B file: %q %v", b, err)
	}
	recs := st.Records()
	if last := recs[len(recs)-1]; last.Kind != recFirmware || strings.Contains(string(last.Data), `"lr"`) {
		t.Fatalf("last record after migration: kind %d %s", last.Kind, last.Data)
	}
}

func base64(b []byte) string { return b64.StdEncoding.EncodeToString(b) }

// BenchmarkInstall512KiB: one install of a 512 KiB image (256 KiB legally
// relevant, 256 KiB other) into a slot file on the test's disk, from the
// verified manifest to the committed floor: the attempt record, the slot
// file (write, fsync, rename, directory fsync), the trial record, the read
// back and its digests, the logbook entry and the commit.
func BenchmarkInstall512KiB(b *testing.B) {
	k := newKit(b, "")
	dir := b.TempDir()
	st, err := OpenStore(filepath.Join(dir, "meter.log"))
	if err != nil {
		b.Fatal(err)
	}
	defer st.Close()
	pol := protocol.ManifestPolicy{Model: k.cfg.Model, Manufacturers: k.cfg.Manufacturers, Authorities: k.cfg.Authorities}
	c, err := NewCore(st, pol, k.cfg.Factory, 1<<30)
	if err != nil {
		b.Fatal(err)
	}
	image := make([]byte, 512<<10)
	rand.Read(image)
	lr, other := image[:256<<10], image[256<<10:]
	b.SetBytes(int64(len(image)))
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		b.StopTimer()
		image[0] = byte(i) // a new image each time
		man := protocol.Manifest{Model: "VM-E3", Version: uint32(5 + i), SecurityVersion: 3, LR: protocol.NewComponent(lr), Other: protocol.NewComponent(other), Issued: 1}
		signed, err := protocol.SignManifest(man, rand.Reader, k.man, k.auth)
		if err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
		if err := c.install(signed, image, "bench", int64(i)); err != nil {
			b.Fatal(err)
		}
	}
}
