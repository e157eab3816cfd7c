package meter

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/verimeter/verimeter/protocol"
	"github.com/verimeter/verimeter/statemachine"
	"github.com/verimeter/verimeter/statemachine/tracecheck"
)

// TestRestartLogsFirmwareStepsTheLogLacks: a meter killed after a durable
// Firmware step and before its log line restarts with the step in its
// store; the restart logs it (and any before it the log lacks), then
// settles what is pending, so the log stays a behaviour of
// spec/Firmware.tla. Two kills: one after the activation's write (the
// boot logs Activate, then Fault, Settle, RollBack), one after the
// install's last write (the boot logs Clear; a restart while idle keeps
// the volatile fcause the log had, as the spec does). The first kill also
// comes with every line of the first install lost (a log still empty: the
// boot logs the install from the spec's initial state).
func TestRestartLogsFirmwareStepsTheLogLacks(t *testing.T) {
	for _, lost := range []int{1, 3} {
		t.Run(fmt.Sprintf("first kill loses %d lines", lost), func(t *testing.T) { restartLogsFirmwareSteps(t, lost) })
	}
}

func restartLogsFirmwareSteps(t *testing.T, firstLost int) {
	k := newKit(t, t.TempDir())
	traceDir := t.TempDir()
	open := func() *statemachine.TraceDir {
		td, err := statemachine.OpenTraceDir(traceDir)
		if err != nil {
			t.Fatal(err)
		}
		k.cfg.Trace = td
		return td
	}
	path := filepath.Join(traceDir, "firmware", fmt.Sprintf("%x", k.cfg.Title[:]), "meter.ndjson")
	// kill stops m as a SIGKILL would and drops the log's last n lines:
	// the steps whose lines the kill cut off after their writes.
	kill := func(m *Meter, td *statemachine.TraceDir, n int) {
		t.Helper()
		m.Close()
		if err := td.Close(); err != nil {
			t.Fatal(err)
		}
		b, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		lines := strings.SplitAfter(string(b), "\n")
		lines = lines[:len(lines)-1-n] // the last element is "" after the final newline
		if err := os.WriteFile(path, []byte(strings.Join(lines, "")), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	image := func(v uint32) ([]byte, protocol.Manifest) {
		lr, other := []byte(fmt.Sprintf("lr code v%d", v)), []byte("comm")
		return append(bytes.Clone(lr), other...), protocol.Manifest{Model: "VM-E3", Version: v, SecurityVersion: 3, LR: protocol.NewComponent(lr), Other: protocol.NewComponent(other), Issued: 1}
	}
	td := open()
	m, err := New(k.cfg)
	if err != nil {
		t.Fatal(err)
	}
	k.agree(t, m)
	img, man := image(5)
	m.core.selfTest = func([]byte) error { panic(powerLoss{}) }
	func() {
		defer func() {
			if r := recover(); r != (powerLoss{}) {
				t.Fatalf("install v5 cut by power loss: recovered %v", r)
			}
		}()
		k.install(t, m, 1, man, img, k.man, k.auth)
	}()
	kill(m, td, firstLost) // Activate written, its line lost (or Offer's, WriteSlot's and its)
	td = open()
	if m, err = New(k.cfg); err != nil {
		t.Fatal(err)
	}
	k.agree(t, m)
	if r := k.install(t, m, 2, man, img, k.man, k.auth); r.Status != protocol.StatusOK || m.core.Version() != 5 {
		t.Fatalf("install v5: %+v", r)
	}
	kill(m, td, 1) // Clear written, its line lost
	td = open()
	if m, err = New(k.cfg); err != nil {
		t.Fatal(err)
	}
	k.agree(t, m)
	img, man = image(6)
	if r := k.install(t, m, 3, man, img, k.man, k.auth); r.Status != protocol.StatusOK || m.core.Version() != 6 {
		t.Fatalf("install v6: %+v", r)
	}
	m.Close()
	if err := td.Close(); err != nil {
		t.Fatal(err)
	}
	steps, err := tracecheck.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var actions []string
	for _, s := range steps {
		actions = append(actions, s.Action)
	}
	want := "Offer WriteSlot Activate Fault Settle RollBack Offer WriteSlot Activate SelfTestPass RaiseFloor Clear Offer WriteSlot Activate SelfTestPass RaiseFloor Clear"
	if got := strings.Join(actions, " "); got != want {
		t.Fatalf("log %s\nwant %s", got, want)
	}
	model, err := tracecheck.Load(filepath.Join(specDir, "Firmware.tla"), filepath.Join(specDir, "trace", "Firmware.cfg"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := model.Check(steps, tracecheck.Options{}); err != nil {
		t.Fatal(err)
	}
}
