//go:build !device

package main

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"
)

// procSet is the set-up the multi-process campaigns (crash_test.go,
// wanfault_test.go) share: the binary built once, a provisioned work
// directory with short paths (Unix socket names are limited to 108 bytes),
// the directory every process writes its spec trace logs to, and the
// processes started from them, killed at the end of the test.
type procSet struct {
	t     *testing.T
	bin   string
	work  string
	trace string   // -spec-trace of every process started
	env   []string // added to every process's environment
	procs []*exec.Cmd
}

// newProcSet builds the binary, provisions meters and gateways under a
// new directory named with prefix, and registers the clean-up (every
// process still running is killed, the directory removed).
func newProcSet(t *testing.T, prefix string, meters, gateways int) *procSet {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "verimeter")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("build: %v\n%s", err, out)
	}
	work, err := os.MkdirTemp("", prefix)
	if err != nil {
		t.Fatal(err)
	}
	ps := &procSet{t: t, bin: bin, work: work, trace: filepath.Join(work, "trace")}
	t.Cleanup(func() {
		ps.stopAll()
		os.RemoveAll(work)
	})
	if err := provision(work, meters, gateways, time.Now()); err != nil {
		t.Fatal(err)
	}
	return ps
}

// path is a file of the work directory.
func (ps *procSet) path(format string, a ...any) string {
	return filepath.Join(ps.work, fmt.Sprintf(format, a...))
}

// command is the binary run with args and the -spec-trace of the set,
// given after the subcommand's own words (e.g. "meter run").
func (ps *procSet) command(args ...string) *exec.Cmd {
	n := min(2, len(args))
	full := append(append(append([]string(nil), args[:n]...), "-spec-trace", ps.trace), args[n:]...)
	c := exec.Command(ps.bin, full...) // output to the null device unless the caller sets it
	c.Env = append(os.Environ(), ps.env...)
	return c
}

// start starts a long-running process (killed at the end of the test).
func (ps *procSet) start(args ...string) *exec.Cmd {
	ps.t.Helper()
	c := ps.command(args...)
	if err := c.Start(); err != nil {
		ps.t.Fatal(err)
	}
	ps.procs = append(ps.procs, c)
	return c
}

// stop kills c (SIGKILL) and reaps it.
func (ps *procSet) stop(c *exec.Cmd) {
	c.Process.Kill()
	c.Wait()
}

// stopAll kills every process started and not yet stopped.
func (ps *procSet) stopAll() {
	for _, c := range ps.procs {
		if c.ProcessState == nil {
			ps.stop(c)
		}
	}
	ps.procs = nil
}

// waitFile waits up to 20 s for p to exist (an address file, a socket).
func (ps *procSet) waitFile(p string) {
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

// startHeadend starts the head-end and waits for its address file.
func (ps *procSet) startHeadend() *exec.Cmd {
	addr := ps.path("headend.addr")
	os.Remove(addr)
	c := ps.start("headend", "serve", "-config", ps.path("headend.json"))
	ps.waitFile(addr)
	return c
}

// startMeter starts meter i and waits for its PLC socket.
func (ps *procSet) startMeter(i int) *exec.Cmd {
	sock := ps.path("sock/meter-%03d", i)
	os.Remove(sock)
	c := ps.start("meter", "run", "-config", ps.path("meter-%03d.json", i))
	ps.waitFile(sock)
	return c
}
