//go:build !device

package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/verimeter/verimeter/gateway"
	"github.com/verimeter/verimeter/headend"
)

// TestCrashCampaign kills (SIGKILL) the head-end, the gateway or a meter at
// random points while the gateway collects and forwards, restarts what it
// killed, and checks at the end: every meter's day stored exactly once
// (nothing acknowledged lost, nothing duplicated), and no (key, nonce) pair
// sealed two different APDUs (from a tap on every APDU of the medium).
// make test runs a short campaign; make crash runs VERIMETER_CRASH_KILLS.
func TestCrashCampaign(t *testing.T) {
	kills := 8
	if v := os.Getenv("VERIMETER_CRASH_KILLS"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			t.Fatalf("VERIMETER_CRASH_KILLS=%q", v)
		}
		kills = n
	}
	dir := t.TempDir()
	bin := filepath.Join(dir, "verimeter")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("build: %v\n%s", err, out)
	}
	work, err := os.MkdirTemp("", "vmc")
	if err != nil {
		t.Fatal(err)
	}
	defer os.RemoveAll(work)
	const meters = 4
	if err := provision(work, meters, 1, time.Now()); err != nil {
		t.Fatal(err)
	}
	tap := filepath.Join(work, "tap.jsonl")
	addrFile := filepath.Join(work, "headend.addr")
	start := func(args ...string) *exec.Cmd {
		c := exec.Command(bin, args...)
		c.Stdout, c.Stderr = io.Discard, io.Discard
		c.Env = append(os.Environ(), "VERIMETER_PLC_TAP="+tap)
		if err := c.Start(); err != nil {
			t.Fatal(err)
		}
		return c
	}
	waitFile := func(p string) {
		for deadline := time.Now().Add(20 * time.Second); ; {
			if _, err := os.Stat(p); err == nil {
				return
			}
			if time.Now().After(deadline) {
				t.Fatalf("%s did not appear", p)
			}
			time.Sleep(10 * time.Millisecond)
		}
	}
	stop := func(c *exec.Cmd) {
		c.Process.Kill()
		c.Wait()
	}
	startHeadend := func() *exec.Cmd {
		os.Remove(addrFile)
		c := start("headend", "serve", "-config", filepath.Join(work, "headend.json"))
		waitFile(addrFile)
		return c
	}
	startMeter := func(i int) *exec.Cmd {
		sock := filepath.Join(work, "sock", fmt.Sprintf("meter-%03d", i))
		os.Remove(sock)
		c := start("meter", "run", "-config", filepath.Join(work, fmt.Sprintf("meter-%03d.json", i)))
		waitFile(sock)
		return c
	}
	he := startHeadend()
	ms := make([]*exec.Cmd, meters)
	for i := range ms {
		ms[i] = startMeter(i)
	}
	defer func() {
		stop(he)
		for _, m := range ms {
			stop(m)
		}
	}()
	rng := rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), 1))
	killed := map[string]int{}
	rounds := 0
	for total := 0; total < kills; rounds++ {
		gw := start("gateway", "run", "-config", filepath.Join(work, "gw-00.json"), "-wait", "5s", "-read")
		done := make(chan error, 1)
		go func() { done <- gw.Wait() }()
		select {
		case <-done: // finished before the blow: no kill this round
			continue
		case <-time.After(time.Duration(rng.IntN(80)) * time.Millisecond):
		}
		switch v := rng.IntN(3); v {
		case 0:
			gw.Process.Kill()
			killed["gateway"]++
		case 1:
			stop(he)
			killed["head-end"]++
			he = startHeadend()
		case 2:
			i := rng.IntN(meters)
			stop(ms[i])
			killed["meter"]++
			ms[i] = startMeter(i)
		}
		total++
		select {
		case <-done:
		case <-time.After(60 * time.Second):
			gw.Process.Kill()
			<-done
		}
	}
	// A last round without blows must deliver everything still queued.
	out, err := exec.Command(bin, "gateway", "run", "-config", filepath.Join(work, "gw-00.json")).CombinedOutput()
	if err != nil {
		t.Fatalf("final gateway round: %v\n%s", err, out)
	}
	stop(he)
	st, err := headend.OpenStore(filepath.Join(work, "data", "headend.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	items, intervals, err := st.Counts()
	if err != nil {
		t.Fatal(err)
	}
	// Everything the gateway ever acknowledged to a meter (its durable
	// queue, acknowledged items included) must be stored, exactly once.
	q, err := gateway.OpenQueue(filepath.Join(work, "data", "gw-00", "queue"))
	if err != nil {
		t.Fatal(err)
	}
	queued := map[string]bool{}
	for _, it := range q.All() {
		queued[string(it.Raw)] = true
	}
	q.Close()
	storedRaw := map[string]bool{}
	if err := st.Each(func(_ headend.Kind, raw []byte) { storedRaw[string(raw)] = true }); err != nil {
		t.Fatal(err)
	}
	lost := 0
	for raw := range queued {
		if !storedRaw[raw] {
			lost++
		}
	}
	reuse, apdus := nonceReuse(t, tap)
	t.Logf("crash campaign: %d rounds, kills %v; %d distinct signed items acknowledged by the gateway, %d stored (%d interval values), %d lost; %d APDUs audited, %d (key, nonce) pairs reused",
		rounds, killed, len(queued), items, intervals, lost, apdus, reuse)
	if lost != 0 || items != len(queued) {
		t.Fatalf("%d acknowledged items lost; %d stored for %d acknowledged", lost, items, len(queued))
	}
	if intervals != meters*96 {
		t.Fatalf("stored %d interval values, want %d: a day was lost or stored twice", intervals, meters*96)
	}
	if reuse != 0 {
		t.Fatalf("%d (key, nonce) pairs sealed different APDUs", reuse)
	}
	if apdus == 0 {
		t.Fatal("the tap saw no APDU: the audit checked nothing")
	}
}

// nonceReuse reads the tap and counts (key, sender, counter) triples that
// sealed more than one distinct APDU.
func nonceReuse(t *testing.T, path string) (reuse, apdus int) {
	f, err := os.Open(path)
	if err != nil {
		t.Fatalf("tap: %v", err)
	}
	defer f.Close()
	seen := map[string]string{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		var r struct {
			Meter, Sender, Key, Sha string
			Ctr                     uint32
		}
		if err := json.Unmarshal(sc.Bytes(), &r); err != nil {
			if strings.TrimSpace(sc.Text()) == "" {
				continue
			}
			continue // a line torn by a kill
		}
		apdus++
		k := fmt.Sprintf("%s/%s/%s/%d", r.Meter, r.Sender, r.Key, r.Ctr)
		if prev, ok := seen[k]; ok && prev != r.Sha {
			reuse++
		}
		seen[k] = r.Sha
	}
	return reuse, apdus
}
