//go:build !device

package main

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/verimeter/verimeter/gateway"
	"github.com/verimeter/verimeter/headend"
	"github.com/verimeter/verimeter/internal/sim/procs"
	"github.com/verimeter/verimeter/meter"
	"github.com/verimeter/verimeter/protocol"
	"github.com/verimeter/verimeter/statemachine/tracecheck"
	"github.com/verimeter/verimeter/wan"
)

// TestCrashCampaign kills (SIGKILL) the head-end, the gateway or a meter at
// random points while the gateway collects, forwards and relays a firmware
// campaign each round (a new version, sometimes a build for another model
// whose self-test fails), restarts what it killed, and checks at the end:
// every meter's day stored exactly once (nothing acknowledged lost, nothing
// duplicated); no (key, nonce) pair sealed two different APDUs (from a tap
// on every APDU of the medium); and every install either complete (the new
// version active, its "installed" logbook entry) or rolled back (the old
// version active), never on trial or mixed, with every install the gateway
// saw acknowledged still in place. Some meter kills are aimed at a meter
// while it installs. make test runs a short campaign; make crash runs
// VERIMETER_CRASH_KILLS.
func TestCrashCampaign(t *testing.T) {
	kills := 8
	if v := os.Getenv("VERIMETER_CRASH_KILLS"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			t.Fatalf("VERIMETER_CRASH_KILLS=%q", v)
		}
		kills = n
	}
	const meters = 4
	ps := procs.New(t, "vmc", meters, 1)
	work := ps.Work
	// A large logbook (one entry per round's install attempt) and a
	// self-test that takes a while, so that kills land in installs.
	const selfTestMillis = 40
	titles := map[string]int{}
	for i := range meters {
		p := filepath.Join(work, fmt.Sprintf("meter-%03d.json", i))
		var mf meterFile
		if err := readJSON(p, &mf); err != nil {
			t.Fatal(err)
		}
		mf.LogbookCapacity, mf.SelfTestMillis = 1<<20, selfTestMillis
		if err := writeJSON(p, mf); err != nil {
			t.Fatal(err)
		}
		titles[mf.Title] = i
	}
	newFirmware := firmwareMaker(t, work)
	tap := filepath.Join(work, "tap.jsonl")
	ps.Env = []string{"VERIMETER_PLC_TAP=" + tap}
	stop, startHeadend, startMeter := ps.Stop, ps.StartHeadend, ps.StartMeter
	he := startHeadend()
	ms := make([]*exec.Cmd, meters)
	for i := range ms {
		ms[i] = ps.StartMeterTampered(i)
	}
	seed := uint64(time.Now().UnixNano())
	t.Logf("seed %d", seed)
	rng := rand.New(rand.NewPCG(seed, 1))
	killed := map[string]int{}
	acked := map[string]uint32{} // meter title -> highest version the gateway saw installed
	var wrongBuilds []uint32
	rounds, campaign := 0, uint32(0)
	installTime := 3 * selfTestMillis * time.Millisecond // transfer to outcome, as last measured
	for total := 0; total < kills; rounds++ {
		campaign++
		version := 4 + campaign
		wrong := rng.IntN(5) == 0 // a signed build for another model: its self-test fails
		if wrong {
			wrongBuilds = append(wrongBuilds, version)
		}
		fw := newFirmware(campaign, version, wrong)
		lines := make(chan string, 64)
		out := &lineWriter{lines: lines}
		gw := ps.Command("gateway", "run", "-config", filepath.Join(work, "gw-00.json"), "-wait", "5s", "-read", "-firmware", fw)
		gw.Stdout = out
		if err := gw.Start(); err != nil {
			t.Fatal(err)
		}
		done := make(chan error, 1)
		go func() { done <- gw.Wait() }()
		finish := func() {
			select {
			case <-done:
			case <-time.After(60 * time.Second):
				gw.Process.Kill()
				<-done
			}
			started := map[string]time.Time{}
			lines, at := out.all()
			for k, l := range lines {
				var title string
				var c uint32
				if _, err := fmt.Sscanf(l, "firmware %s campaign %d: transfer", &title, &c); err == nil {
					started[title] = at[k]
				}
				if _, err := fmt.Sscanf(l, "firmware %s campaign %d: installed", &title, &c); err == nil {
					acked[title] = max(acked[title], 4+c)
				}
				if strings.HasPrefix(l, "firmware ") && !strings.HasSuffix(l, ": transfer") && !started[title].IsZero() {
					installTime = max(time.Millisecond, at[k].Sub(started[title]))
				}
			}
		}
		blow := rng.IntN(4)
		if blow == 3 {
			// Aimed at a meter while it installs: wait for the gateway to
			// start a transfer, then kill that meter during the transfer,
			// the activation or the self-test.
			var victim string
		wait:
			for victim == "" {
				select {
				case l := <-lines:
					var title string
					var c uint32
					if _, err := fmt.Sscanf(l, "firmware %s campaign %d: transfer", &title, &c); err == nil && rng.IntN(meters) == 0 {
						victim = title
					}
				case <-done:
					done <- nil
					break wait
				}
			}
			if victim == "" {
				finish()
				continue // the round ended before the blow
			}
			// Half the blows anywhere in the install, half in its last
			// part: activation, self-test, commit.
			delay := time.Duration(rng.Int64N(int64(installTime)))
			if rng.IntN(2) == 0 {
				delay = max(0, installTime-time.Duration(rng.IntN(selfTestMillis+20))*time.Millisecond)
			}
			time.Sleep(delay)
			i := titles[victim]
			stop(ms[i])
			killed["meter in install"]++
			ms[i] = startMeter(i)
			total++
			finish()
			continue
		}
		select {
		case <-done: // finished before the blow: no kill this round
			done <- nil
			finish()
			continue
		case <-time.After(time.Duration(rng.IntN(400)) * time.Millisecond):
		}
		switch blow {
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
		finish()
	}
	// A last round without blows must deliver everything still queued.
	out, err := ps.Command("gateway", "run", "-config", filepath.Join(work, "gw-00.json")).CombinedOutput()
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
	if err := st.Each(func(_ wan.Kind, raw []byte) { storedRaw[string(raw)] = true }); err != nil {
		t.Fatal(err)
	}
	lost := 0
	for raw := range queued {
		if !storedRaw[raw] {
			lost++
		}
	}
	reuse, apdus := nonceReuse(t, tap)
	// Firmware: boot each meter's legally relevant core from its store, as
	// the meter does after power loss, and check every install attempt.
	for _, m := range ms {
		stop(m)
	}
	fwr := firmwareOutcome{}
	for title, i := range titles {
		r := checkInstalls(t, filepath.Join(work, "data", fmt.Sprintf("meter-%03d", i), "meter.log"), title, acked[title], wrongBuilds)
		fwr.add(r)
	}
	// Every process's logs, the killed and restarted ones included (a
	// restart is the spec's step: the meter's power loss, the gateway's
	// new key agreement).
	if keep := os.Getenv("VERIMETER_CRASH_TRACES"); keep != "" {
		// The logs kept for verimeter trace-check after the test.
		if err := os.CopyFS(keep, os.DirFS(ps.Trace)); err != nil {
			t.Errorf("keeping the trace logs: %v", err)
		}
	}
	traces, traceErr := validateCrashTraces(ps.Trace, campaign)
	var explained []string
	for _, r := range traces {
		explained = append(explained, fmt.Sprintf("%s %d steps in %d logs", r.Module, r.Steps, r.Logs))
	}
	dups := max(0, intervals-meters*96)
	total := 0
	for _, n := range killed {
		total += n
	}
	t.Logf("crash campaign: %d rounds, kills %v; %d distinct signed items acknowledged by the gateway, %d stored (%d interval values), %d lost; %d APDUs audited, %d (key, nonce) pairs reused; %d install attempts: %d complete, %d rolled back (%d self-test failed, %d power lost during the install), %d rejected, %d broken; traces explained: %s",
		rounds, killed, len(queued), items, intervals, lost, apdus, reuse, fwr.attempts, fwr.complete, fwr.rolledBack, fwr.selfTest, fwr.atBoot, fwr.rejected, len(fwr.broken), strings.Join(explained, ", "))
	for _, f := range []struct {
		name string
		v    int
	}{
		{"kills", total}, {"kills head-end", killed["head-end"]}, {"kills gateway", killed["gateway"]}, {"kills meter", killed["meter"]}, {"kills meter in install", killed["meter in install"]},
		{"items acknowledged", len(queued)}, {"items lost", lost}, {"intervals duplicated", dups},
		{"APDUs audited", apdus}, {"nonce reuse", reuse},
		{"trace steps Commands", traces.module("Commands").Steps}, {"trace steps Channel", traces.module("Channel").Steps},
		{"trace steps Collection", traces.module("Collection").Steps}, {"trace steps Firmware", traces.module("Firmware").Steps},
		{"trace steps Tamper", traces.module("Tamper").Steps},
		{"installs attempted", fwr.attempts}, {"installs complete", fwr.complete}, {"installs rolled back", fwr.rolledBack},
		{"rollbacks at boot", fwr.atBoot}, {"installs rejected", fwr.rejected}, {"installs broken", len(fwr.broken)},
	} {
		t.Logf("figure: %-24s %d", f.name, f.v)
	}
	if traceErr != nil {
		// Every module's logs are judged: a restart is a step of each
		// spec (see crashTraceModules).
		for _, r := range traces {
			if r.Err != nil {
				t.Errorf("%s: a log no behaviour of the spec explains: %v", r.Module, r.Err)
			}
		}
		if len(traces) == 0 {
			t.Errorf("trace validation: %v", traceErr)
		}
	}
	for _, m := range crashTraceModules {
		if m != "Commands" && traces.module(m).Steps == 0 && traces.module(m).Err == nil {
			t.Errorf("no %s step logged: the trace validation checked nothing", m)
		}
	}
	// The same logs with one step of each module edited: the campaign
	// fails on each (a judge that explains anything checks nothing).
	tampered := filepath.Join(t.TempDir(), "tampered")
	edited, err := tamperCrashTraces(ps.Trace, tampered)
	if err != nil {
		t.Fatal(err)
	}
	bad, _ := validateCrashTraces(tampered, campaign)
	for _, m := range edited {
		if r := bad.module(m); !errors.Is(r.Err, tracecheck.ErrUnexplained) {
			t.Errorf("%s: a log with an edited step is not rejected: %v", m, r.Err)
		}
	}
	t.Logf("tampered logs rejected: %s", strings.Join(edited, ", "))
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
	if len(fwr.broken) > 0 {
		t.Fatalf("%d installs neither complete nor rolled back:\n%s", len(fwr.broken), strings.Join(fwr.broken, "\n"))
	}
	if fwr.complete == 0 {
		t.Fatal("no install completed: the campaign checked nothing")
	}
}

// crashTraceModules are the modules whose logs the crash campaign judges:
// all of them, as a restart is a step of each spec: the meter's power loss
// (Channel's and Commands' Crash, Firmware's Fault and its settling) with
// the durable steps a kill left unlogged logged before it (Channel's
// Agree and Reserve, Collection's Take, Firmware's install steps), the
// gateway's Rekeys and its Commands and Collection Restart, and the
// head-end's store, which survives it unchanged (Collection's stored,
// Tamper's).
var crashTraceModules = []string{"Commands", "Channel", "Collection", "Firmware", "Tamper"}

// lineWriter collects a process's output lines and offers each on lines
// (dropped when nobody listens).
type lineWriter struct {
	mu    sync.Mutex
	buf   []byte
	done  []string
	at    []time.Time
	lines chan string
}

func (w *lineWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.buf = append(w.buf, p...)
	for {
		i := bytes.IndexByte(w.buf, '\n')
		if i < 0 {
			return len(p), nil
		}
		l := string(w.buf[:i])
		w.buf = w.buf[i+1:]
		w.done = append(w.done, l)
		w.at = append(w.at, time.Now())
		select {
		case w.lines <- l:
		default:
		}
	}
}

// all returns the lines so far and when each was written.
func (w *lineWriter) all() ([]string, []time.Time) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return append([]string(nil), w.done...), append([]time.Time(nil), w.at...)
}

// firmwareMaker returns a function that writes campaign's firmware file
// (manifest signed by the provisioned manufacturer and authority) and
// returns its path. A wrong build is signed for the meters' model but its
// code is built for another, so the meter's self-test refuses it.
func firmwareMaker(t *testing.T, work string) func(campaign, version uint32, wrong bool) string {
	return func(campaign, version uint32, wrong bool) string {
		model := "VM-E3"
		if wrong {
			model = "VM-E2"
		}
		if _, err := makeFirmware(work, campaign, version, model); err != nil {
			t.Fatal(err)
		}
		return filepath.Join(work, fmt.Sprintf("fw-%d.json", campaign))
	}
}

type firmwareOutcome struct {
	attempts, complete, rolledBack, selfTest, atBoot, rejected int
	broken                                                     []string
}

func (o *firmwareOutcome) add(r firmwareOutcome) {
	o.attempts += r.attempts
	o.complete += r.complete
	o.rolledBack += r.rolledBack
	o.selfTest += r.selfTest
	o.atBoot += r.atBoot
	o.rejected += r.rejected
	o.broken = append(o.broken, r.broken...)
}

// checkInstalls boots a meter's legally relevant core from its store and
// checks its firmware history: the logbook chains every attempt from the
// software then active; each attempt either completed (its version became
// active) or was rolled back or rejected (the old one stayed); the active
// software is the last one installed; no wrong build is active; and the
// last install the gateway saw acknowledged is in place.
func checkInstalls(t *testing.T, path, title string, acked uint32, wrong []uint32) firmwareOutcome {
	st, err := meter.OpenStore(path)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	factory := factorySlot("VM-E3")
	c, err := meter.NewCore(st, protocol.ManifestPolicy{Model: "VM-E3"}, factory, 1<<20)
	if err != nil {
		t.Fatalf("meter %s does not boot: %v", title, err)
	}
	var o firmwareOutcome
	bad := func(format string, a ...any) {
		o.broken = append(o.broken, fmt.Sprintf("meter %s: ", title)+fmt.Sprintf(format, a...))
	}
	fid := sha256.Sum256(factory.LR)
	version, id := factory.Version, hex.EncodeToString(fid[:8])
	for i, e := range c.Logbook() {
		o.attempts++
		if e.Seq != i+1 || e.OldVersion != version || e.OldID != id {
			bad("logbook entry %d (%s v%d->v%d) does not follow the active v%d %s", e.Seq, e.Event, e.OldVersion, e.NewVersion, version, id)
		}
		switch e.Event {
		case "installed":
			o.complete++
			version, id = e.NewVersion, e.NewID
			if slices.Contains(wrong, version) {
				bad("a build for another model (v%d) is active", version)
			}
		case "rolled back":
			o.rolledBack++
			if strings.Contains(e.Reason, "power lost") {
				o.atBoot++
			} else {
				o.selfTest++
			}
		case "rejected":
			o.rejected++
		default:
			bad("logbook entry %d: unknown event %q", e.Seq, e.Event)
		}
	}
	if c.Version() != version || c.SoftwareID() != id {
		bad("v%d %s active, but the logbook says v%d %s", c.Version(), c.SoftwareID(), version, id)
	}
	if acked != 0 && c.Version() < acked {
		bad("the gateway saw v%d installed, the meter runs v%d", acked, c.Version())
	}
	return o
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
