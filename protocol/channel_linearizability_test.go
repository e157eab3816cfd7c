package protocol

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/anishathalye/porcupine"
)

// Linearizability of the secure channel's receiving side (DESIGN.md S2):
// several deliveries race into one receiver (the medium duplicates,
// reorders and replays; an attacker injects forgeries). Every history is
// checked with porcupine against an at-most-once acceptor: a data APDU is
// accepted exactly when its counter was not accepted before, a forgery
// never, and nothing else changes the state. A build without the replay
// window (tag verimeter_mutant_noreplay) must fail this test
// (TestNoReplayMutantFailsChannelHistories).

const (
	chAPDUs   = 16 // sealed data APDUs, counters 0..15
	chClients = 3
	chOps     = 10
)

type chInput struct {
	counter uint32
	forged  bool
}

var channelModel = porcupine.Model{
	Init: func() any { return uint64(0) }, // bit c: counter c accepted
	Step: func(st, in, out any) (bool, any) {
		s, i, accepted := st.(uint64), in.(chInput), out.(bool)
		if i.forged {
			return !accepted, s
		}
		fresh := s&(1<<i.counter) == 0
		return accepted == fresh, s | 1<<i.counter
	},
	DescribeOperation: func(in, out any) string {
		i, verdict := in.(chInput), "rejected"
		if out.(bool) {
			verdict = "accepted"
		}
		if i.forged {
			return fmt.Sprintf("forged %d %s", i.counter, verdict)
		}
		return fmt.Sprintf("APDU %d %s", i.counter, verdict)
	},
	DescribeState: func(st any) string { return fmt.Sprintf("accepted %016b", st.(uint64)) },
}

// runChannelHistory delivers random picks of apdus (and forgeries of them)
// from concurrent clients to a fresh receiver and returns the history.
func runChannelHistory(keys SessionKeys, apdus [][]byte, seed uint64) []porcupine.Operation {
	rng := rand.New(rand.NewPCG(seed, 7))
	r, err := NewReceiver(keys)
	if err != nil {
		panic(err)
	}
	var (
		mu    sync.Mutex // the meter opens one APDU at a time
		clock atomic.Int64
		hmu   sync.Mutex
		ops   []porcupine.Operation
		wg    sync.WaitGroup
	)
	for c := range chClients {
		crng := rand.New(rand.NewPCG(rng.Uint64(), uint64(c)))
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range chOps {
				in := chInput{counter: uint32(crng.IntN(chAPDUs)), forged: crng.IntN(8) == 0}
				apdu := apdus[in.counter]
				if in.forged {
					apdu = bytes.Clone(apdu)
					apdu[len(apdu)-1-crng.IntN(TagLen)] ^= 1 << crng.IntN(8)
				}
				call := clock.Add(1)
				mu.Lock()
				_, _, err := r.Open(nil, apdu)
				mu.Unlock()
				ret := clock.Add(1)
				hmu.Lock()
				ops = append(ops, porcupine.Operation{ClientId: c, Input: in, Call: call, Output: err == nil, Return: ret})
				hmu.Unlock()
			}
		}()
	}
	wg.Wait()
	return ops
}

func TestChannelLinearizable(t *testing.T) {
	n := linHistories(t)
	mKeys, gKeys := agree(t, Suite1)
	s, err := NewSender(mKeys, NewMemStore())
	if err != nil {
		t.Fatal(err)
	}
	apdus := make([][]byte, chAPDUs)
	for i := range apdus {
		if apdus[i], err = s.Seal(nil, TagDataNotification, []byte(fmt.Sprintf("reading %d", i))); err != nil {
			t.Fatal(err)
		}
	}
	var ops, accepted int
	for h := range n {
		hist := runChannelHistory(gKeys, apdus, uint64(h))
		res, info := porcupine.CheckOperationsVerbose(channelModel, hist, 10*time.Second)
		ops += len(hist)
		for _, o := range hist {
			if o.Output.(bool) {
				accepted++
			}
		}
		if res != porcupine.Ok {
			out := filepath.Join(os.TempDir(), fmt.Sprintf("verimeter-channel-%d.html", h))
			if err := porcupine.VisualizePath(channelModel, info, out); err != nil {
				t.Logf("visualisation: %v", err)
			}
			t.Fatalf("history %d is %s: the receiver is not an at-most-once acceptor; visualisation in %s", h, res, out)
		}
	}
	t.Logf("%d histories, %d operations, %d deliveries accepted: all linearizable", n, ops, accepted)
}

// TestNoReplayMutantFailsChannelHistories builds the protocol without its
// replay window (the deliberately broken variant) and runs the channel's
// linearizability test against it: it must fail on a history.
func TestNoReplayMutantFailsChannelHistories(t *testing.T) {
	if os.Getenv("VERIMETER_IN_MUTANT") != "" {
		t.Skip("inside the mutant run")
	}
	gobin, err := exec.LookPath("go")
	if err != nil {
		t.Fatalf("the go command is needed to build the mutant: %v", err)
	}
	cmd := exec.Command(gobin, "test", "-count=1", "-tags", "verimeter_mutant_noreplay", "-run", "^TestChannelLinearizable$", ".")
	cmd.Env = append(os.Environ(), "VERIMETER_IN_MUTANT=1", linHistoriesE+"=200")
	out, err := cmd.CombinedOutput()
	if err == nil {
		t.Fatalf("the channel's histories are linearizable without a replay window:\n%s", out)
	}
	if !bytes.Contains(out, []byte("not an at-most-once acceptor")) {
		t.Fatalf("the mutant run failed for another reason:\n%s", out)
	}
	t.Logf("mutant caught: %s", bytes.TrimSpace(out[:bytes.IndexByte(out, '\n')+1]))
}
