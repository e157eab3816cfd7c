package meter

import (
	"bytes"
	"fmt"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/verimeter/verimeter/protocol"
	"github.com/verimeter/verimeter/statemachine/journal/crashfs"
	"github.com/verimeter/verimeter/statemachine/tracecheck"
)

// powerLoss is what the self-test hook panics with to cut the install as
// power loss would: nothing after it runs, the journal and files keep
// what was written.
type powerLoss struct{}

// TestFirmwareStepsAreExplained: a meter's Firmware log over every kind of
// attempt (a manifest without the authority's signature, a corrupt image,
// an aborted transfer, a slot write that fails, a self-test that fails, an
// install, and an install cut by power loss during its self-test and
// settled at the next boot) is a behaviour of spec/Firmware.tla, logbook
// included: the meter takes each decision as a step of the generated
// machine, and the boot after the power loss is the spec's Fault and
// Settle. The logbook has one entry per attempt, with its outcome.
func TestFirmwareStepsAreExplained(t *testing.T) {
	fsys := crashfs.New()
	var slotFail error
	stuck := false // the slot write and every journal write after it fail
	fsys.Fail = func(kind crashfs.OpKind, name string) error {
		if (slotFail != nil || stuck) && strings.Contains(name, "slot-") {
			if stuck {
				stuck = false
				slotFail = syscall.EIO
			}
			return syscall.ENOSPC
		}
		if slotFail == syscall.EIO && strings.Contains(name, "meter.log") {
			return slotFail
		}
		return nil
	}
	k := newKit(t, "/m")
	k.cfg.fs = fsys
	traceDir := t.TempDir()
	m := k.tracedMeter(t, traceDir)
	td := k.cfg.Trace
	k.agree(t, m)
	image := func(v uint32) ([]byte, protocol.Manifest) {
		lr, other := []byte(fmt.Sprintf("lr code v%d", v)), []byte("comm")
		return append(bytes.Clone(lr), other...), protocol.Manifest{Model: "VM-E3", Version: v, SecurityVersion: 3, LR: protocol.NewComponent(lr), Other: protocol.NewComponent(other), Issued: 1}
	}
	img, man := image(5)
	refused := func(name string, r protocol.PDU) {
		t.Helper()
		if r.Status != protocol.StatusRejected {
			t.Fatalf("%s: %+v, want refused", name, r)
		}
	}
	refused("manufacturer only", k.install(t, m, 1, man, img, k.man))
	bad := bytes.Clone(img)
	bad[0] ^= 1
	refused("corrupt image", k.install(t, m, 2, man, bad, k.man, k.auth))
	refused("aborted transfer", k.transferWithout(t, m, 3, man, img, 0))
	slotFail = syscall.ENOSPC
	refused("slot write fails", k.install(t, m, 4, man, img, k.man, k.auth))
	slotFail = nil
	m.core.selfTest = func([]byte) error { return fmt.Errorf("calibration table checksum") }
	refused("self-test fails", k.install(t, m, 5, man, img, k.man, k.auth))
	m.core.selfTest = nil
	if r := k.install(t, m, 6, man, img, k.man, k.auth); r.Status != protocol.StatusOK || m.core.Version() != 5 {
		t.Fatalf("install v5: %+v", r)
	}
	img, man = image(6)
	m.core.selfTest = func([]byte) error { panic(powerLoss{}) }
	func() {
		defer func() {
			if r := recover(); r != (powerLoss{}) {
				t.Fatalf("install v6 cut by power loss: recovered %v", r)
			}
		}()
		k.install(t, m, 7, man, img, k.man, k.auth)
	}()
	m = reopen(t, k, m) // the boot settles the attempt
	if m.core.Version() != 5 || m.core.fw.Attempt != nil {
		t.Fatalf("after the power loss: v%d, attempt %+v", m.core.Version(), m.core.fw.Attempt)
	}
	// Another v6 build (other bytes, the same manifest to the spec as the
	// failed one still in slot B): its slot write fails and so does the
	// journal, so the attempt cannot even be settled; power is lost while
	// it is pending, and the boot settles it (a second Fault).
	k.agree(t, m)
	img, man = image(6)
	img = append(img, '!')
	man.Other = protocol.NewComponent(img[man.LR.Size:])
	stuck = true
	m.core.selfTest = nil
	refused("slot and journal writes fail", k.install(t, m, 8, man, img, k.man, k.auth))
	if m.core.fw.Attempt == nil {
		t.Fatal("the attempt was settled although the journal failed")
	}
	slotFail = nil
	m.Close()
	m, err := New(k.cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	if m.core.Version() != 5 || m.core.fw.Attempt != nil {
		t.Fatalf("after the second power loss: v%d, attempt %+v", m.core.Version(), m.core.fw.Attempt)
	}
	var outcomes []string
	for _, e := range m.core.Logbook() {
		outcomes = append(outcomes, e.Event+" "+string(e.Cause))
	}
	want := "rejected manifest refused|rejected digest mismatch|rejected transfer aborted|rolled back slot write failed|rolled back self-test failed|installed |rolled back power lost|rolled back power lost"
	if got := strings.Join(outcomes, "|"); got != want {
		t.Fatalf("logbook %s\nwant %s", got, want)
	}
	if err := td.Close(); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(traceDir, "firmware", fmt.Sprintf("%x", k.cfg.Title[:]), "meter.ndjson")
	steps, err := tracecheck.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	model, err := tracecheck.Load(filepath.Join(specDir, "Firmware.tla"), filepath.Join(specDir, "trace", "Firmware.cfg"))
	if err != nil {
		t.Fatal(err)
	}
	res, err := model.Check(steps, tracecheck.Options{})
	if err != nil {
		t.Fatal(err)
	}
	var actions []string
	for _, s := range steps {
		actions = append(actions, s.Action)
	}
	if a := strings.Join(actions, " "); !strings.Contains(a, "Activate Fault Settle RollBack") || !strings.Contains(a, "Offer Fault Settle RollBack Offer WriteSlot") ||
		!strings.HasSuffix(a, "Offer Fault Fault Settle RollBack") {
		t.Fatalf("the failed slot write (not a step: its write failed) and the power loss are not Fault, Settle, RollBack: %s", a)
	}
	t.Logf("%d Firmware steps explained: %s", res.Steps, strings.Join(actions, " "))
}
