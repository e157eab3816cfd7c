package procs

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"
)

// Set is the set-up the multi-process campaigns (cmd/verimeter's
// crash_test.go, wanfault_test.go) share: the binary built once, a
// provisioned work directory with short paths (Unix socket names are
// limited to 108 bytes), the directory every process writes its spec trace
// logs to, and the processes started from them, killed at the end of the
// test.
type Set struct {
	t     testing.TB
	Bin   string   // the verimeter binary
	Work  string   // the provisioned deployment
	Trace string   // -spec-trace of every process started
	Env   []string // added to every process's environment
	procs []*exec.Cmd
}

// New builds the binary, provisions meters and gateways under a new
// directory named with prefix (`verimeter provision`), and registers the
// clean-up (every process still running is killed, the directory
// removed).
func New(t testing.TB, prefix string, meters, gateways int) *Set {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "verimeter")
	if out, err := exec.Command("go", "build", "-o", bin, "github.com/verimeter/verimeter/cmd/verimeter").CombinedOutput(); err != nil {
		t.Fatalf("build: %v\n%s", err, out)
	}
	work, err := os.MkdirTemp("", prefix)
	if err != nil {
		t.Fatal(err)
	}
	ps := &Set{t: t, Bin: bin, Work: work, Trace: filepath.Join(work, "trace")}
	t.Cleanup(func() {
		ps.StopAll()
		os.RemoveAll(work)
	})
	if out, err := exec.Command(bin, "provision", "-dir", work, "-meters", fmt.Sprint(meters), "-gateways", fmt.Sprint(gateways)).CombinedOutput(); err != nil {
		t.Fatalf("provision: %v\n%s", err, out)
	}
	return ps
}

// Path is a file of the work directory.
func (ps *Set) Path(format string, a ...any) string {
	return filepath.Join(ps.Work, fmt.Sprintf(format, a...))
}

// Command is the binary run with args and the -spec-trace of the set,
// given after the subcommand's own words (e.g. "meter run").
func (ps *Set) Command(args ...string) *exec.Cmd {
	n := min(2, len(args))
	full := append(append(append([]string(nil), args[:n]...), "-spec-trace", ps.Trace), args[n:]...)
	c := exec.Command(ps.Bin, full...) // output to the null device unless the caller sets it
	c.Env = append(os.Environ(), ps.Env...)
	return c
}

// Start starts a long-running process (killed at the end of the test).
func (ps *Set) Start(args ...string) *exec.Cmd {
	ps.t.Helper()
	c := ps.Command(args...)
	if err := c.Start(); err != nil {
		ps.t.Fatal(err)
	}
	ps.procs = append(ps.procs, c)
	return c
}

// Stop kills c (SIGKILL) and reaps it.
func (ps *Set) Stop(c *exec.Cmd) {
	c.Process.Kill()
	c.Wait()
}

// StopAll kills every process started and not yet stopped.
func (ps *Set) StopAll() {
	for _, c := range ps.procs {
		if c.ProcessState == nil {
			ps.Stop(c)
		}
	}
	ps.procs = nil
}

// WaitFile waits up to 20 s for p to exist (an address file, a socket).
func (ps *Set) WaitFile(p string) {
	ps.t.Helper()
	for deadline := time.Now().Add(20 * time.Second); ; {
		if _, err := os.Stat(p); err == nil {
			return
		}
		if time.Now().After(deadline) {
			ps.t.Fatalf("%s did not appear", p)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// StartHeadend starts the head-end and waits for its address file.
func (ps *Set) StartHeadend() *exec.Cmd {
	addr := ps.Path("headend.addr")
	os.Remove(addr)
	c := ps.Start("headend", "serve", "-config", ps.Path("headend.json"))
	ps.WaitFile(addr)
	return c
}

// StartMeter starts meter i and waits for its PLC socket.
func (ps *Set) StartMeter(i int) *exec.Cmd {
	sock := ps.Path("sock/meter-%03d", i)
	os.Remove(sock)
	c := ps.Start("meter", "run", "-config", ps.Path("meter-%03d.json", i))
	ps.WaitFile(sock)
	return c
}

// StartMeterTampered starts meter i with its simulated tamper sensor
// firing once (a cover opened at start), so that a campaign's Tamper logs
// hold an event each meter detects, the gateway collects and relays and
// the head-end acknowledges, across the kills that follow; a restart
// (StartMeter) fires nothing.
func (ps *Set) StartMeterTampered(i int) *exec.Cmd {
	sock := ps.Path("sock/meter-%03d", i)
	os.Remove(sock)
	c := ps.Start("meter", "run", "-config", ps.Path("meter-%03d.json", i), "-tamper", "cover")
	ps.WaitFile(sock)
	return c
}
