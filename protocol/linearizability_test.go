package protocol

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/anishathalye/porcupine"
)

// Linearizability of the counter store under crashes (DESIGN.md S7): several
// clients reserve and read counters concurrently while power fails at random
// points, tearing the record being written; after each restart the store is
// reopened from disk. Every history is checked with porcupine against a
// sequential store whose value per key only grows. An acknowledged
// reservation that is missing after a restart, or a read that sees a value
// no linearization explains, fails the test and writes porcupine's HTML
// visualisation of the history.

const (
	linKeys       = 2
	linClients    = 3
	linOpsPerCli  = 24
	linHistoriesE = "VERIMETER_LIN_HISTORIES" // make soak raises the count
)

type linInput struct {
	reserve bool
	key     int
	upto    uint64
}

type linOutput struct {
	failed bool   // the store returned an error
	torn   bool   // ... while writing its record: effect unknown
	value  uint64 // Reserved's result
}

type linState [linKeys]uint64

// counterModel is the sequential specification. A failed Reserve may or
// may not have taken effect (its record may be whole on disk), so it steps to
// both; porcupine treats it as pending until the end of the history.
var counterModel = porcupine.NondeterministicModel{
	Init: func() []any { return []any{linState{}} },
	Step: func(st, in, out any) []any {
		s, i, o := st.(linState), in.(linInput), out.(linOutput)
		if !i.reserve {
			if o.failed || o.value == s[i.key] {
				return []any{s}
			}
			return nil
		}
		n := s
		n[i.key] = max(n[i.key], i.upto)
		switch {
		case o.torn:
			return []any{s, n}
		case o.failed:
			return []any{s} // refused before writing: no effect
		}
		return []any{n}
	},
	DescribeOperation: func(in, out any) string {
		i, o := in.(linInput), out.(linOutput)
		res := "ok"
		if o.torn {
			res = "torn by power loss"
		} else if o.failed {
			res = "failed"
		}
		if i.reserve {
			return fmt.Sprintf("Reserve(k%d, %d) %s", i.key, i.upto, res)
		}
		if o.failed {
			return fmt.Sprintf("Reserved(k%d) failed", i.key)
		}
		return fmt.Sprintf("Reserved(k%d) = %d", i.key, o.value)
	},
	DescribeState: func(st any) string { return fmt.Sprint(st.(linState)) },
}

// crashFile tears the write in progress when power fails: a prefix of the
// record reaches the disk, then every operation fails until the restart.
type crashFile struct {
	*os.File
	rng   *rand.Rand
	mu    sync.Mutex
	armed bool // fail at the next write
	dead  bool
}

var (
	errTorn = errors.New("power lost: record torn")
	errDead = errors.New("power lost: store down until restart")
)

func (c *crashFile) WriteAt(p []byte, off int64) (int, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.dead {
		return 0, errDead
	}
	if c.armed {
		c.dead = true
		n := c.rng.IntN(len(p) + 1) // 0..all bytes of the record survive
		c.File.WriteAt(p[:n], off)
		return n, errTorn
	}
	return c.File.WriteAt(p, off)
}

func (c *crashFile) Sync() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.dead {
		return errDead
	}
	return c.File.Sync()
}

// linStore is a counter store with crash and restart, and optionally a
// mutant that acknowledges reservations it never wrote (a lost fsync).
type linStore interface {
	CounterStore
}

type lostWriteStore struct {
	*FileStore
	rng *rand.Rand
	mu  sync.Mutex
	mem map[[8]byte]uint64
}

// Reserve, in the mutant, sometimes acknowledges without writing.
func (s *lostWriteStore) Reserve(key [8]byte, upto uint64) error {
	s.mu.Lock()
	skip := s.rng.IntN(3) == 0
	s.mu.Unlock()
	if skip {
		s.mu.Lock()
		s.mem[key] = max(s.mem[key], upto)
		s.mu.Unlock()
		return nil
	}
	return s.FileStore.Reserve(key, upto)
}

func (s *lostWriteStore) Reserved(key [8]byte) (uint64, error) {
	v, err := s.FileStore.Reserved(key)
	s.mu.Lock()
	defer s.mu.Unlock()
	return max(v, s.mem[key]), err
}

// runCounterHistory runs one concurrent history with crashes and returns it.
func runCounterHistory(t testing.TB, dir string, seed uint64, mutant bool) []porcupine.Operation {
	path := filepath.Join(dir, fmt.Sprintf("counters-%d", seed))
	defer os.Remove(path)
	rng := rand.New(rand.NewPCG(seed, 1))
	var (
		gate  sync.RWMutex // clients hold it shared; a restart holds it alone
		cur   linStore
		file  *crashFile
		clock atomic.Int64
	)
	open := func() {
		f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
		if err != nil {
			t.Fatal(err)
		}
		file = &crashFile{File: f, rng: rand.New(rand.NewPCG(rng.Uint64(), 2))}
		fs, err := openFileStore(file)
		if err != nil {
			t.Fatal(err)
		}
		cur = fs
		if mutant {
			cur = &lostWriteStore{FileStore: fs, rng: rand.New(rand.NewPCG(rng.Uint64(), 3)), mem: map[[8]byte]uint64{}}
		}
	}
	open()
	keys := [linKeys][8]byte{{'k', 0}, {'k', 1}}
	var (
		mu  sync.Mutex
		ops []porcupine.Operation
	)
	var wg sync.WaitGroup
	for c := range linClients {
		crng := rand.New(rand.NewPCG(rng.Uint64(), uint64(c)))
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range linOpsPerCli {
				in := linInput{reserve: crng.IntN(3) != 0, key: crng.IntN(linKeys), upto: uint64(crng.IntN(64) + 1)}
				gate.RLock()
				s := cur
				call := clock.Add(1)
				var out linOutput
				var err error
				if in.reserve {
					err = s.Reserve(keys[in.key], in.upto)
				} else {
					out.value, err = s.Reserved(keys[in.key])
				}
				ret := clock.Add(1)
				gate.RUnlock()
				out.failed = err != nil
				if err != nil && !errors.Is(err, ErrCounterStore) {
					t.Errorf("untyped store error: %v", err)
				}
				// FileStore wraps the file's error as text; the torn write is
				// the one operation whose effect is unknown.
				if out.torn = err != nil && strings.Contains(err.Error(), errTorn.Error()); out.torn {
					ret = 1 << 62 // pending: may take effect at any later point
				}
				mu.Lock()
				ops = append(ops, porcupine.Operation{ClientId: c, Input: in, Call: call, Output: out, Return: ret})
				mu.Unlock()
			}
		}()
	}
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	// The crasher: arm a power loss, and restart once it has struck.
	crng := rand.New(rand.NewPCG(rng.Uint64(), 99))
	for {
		select {
		case <-done:
			gate.Lock()
			file.Close()
			gate.Unlock()
			return ops
		default:
		}
		time.Sleep(time.Duration(crng.IntN(300)) * time.Microsecond)
		file.mu.Lock()
		file.armed = true
		dead := file.dead
		file.mu.Unlock()
		if dead || crng.IntN(4) == 0 {
			gate.Lock()
			file.Close()
			open()
			gate.Unlock()
		}
	}
}

func linHistories(t *testing.T) int {
	if v := os.Getenv(linHistoriesE); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			t.Fatalf("%s=%q: want a positive count", linHistoriesE, v)
		}
		return n
	}
	return 1000
}

// storeDir prefers a RAM disk: fsync is what this test exercises for
// ordering, not for speed, and 1,000 histories must fit in make test.
func storeDir(t *testing.T) string {
	if fi, err := os.Stat("/dev/shm"); err == nil && fi.IsDir() {
		d, err := os.MkdirTemp("/dev/shm", "verimeter-lin-")
		if err == nil {
			t.Cleanup(func() { os.RemoveAll(d) })
			return d
		}
	}
	return t.TempDir()
}

func TestCounterStoreLinearizableUnderCrashes(t *testing.T) {
	n := linHistories(t)
	dir := storeDir(t)
	model := counterModel.ToModel()
	var ops, failedOps int
	for h := range n {
		hist := runCounterHistory(t, dir, uint64(h), false)
		res, info := porcupine.CheckOperationsVerbose(model, hist, 10*time.Second)
		ops += len(hist)
		for _, o := range hist {
			if o.Output.(linOutput).failed {
				failedOps++
			}
		}
		if res != porcupine.Ok {
			out := filepath.Join(os.TempDir(), fmt.Sprintf("verimeter-counterstore-%d.html", h))
			if err := porcupine.VisualizePath(model, info, out); err != nil {
				t.Logf("visualisation: %v", err)
			}
			t.Fatalf("history %d is %s; visualisation in %s", h, res, out)
		}
	}
	if failedOps == 0 {
		t.Fatal("no power loss struck any operation: the test exercised nothing")
	}
	t.Logf("%d histories, %d operations, %d failed during a power loss: all linearizable", n, ops, failedOps)
}

// TestCounterStoreLinearizabilityCatchesLostWrites runs the same histories
// against a mutant that acknowledges some reservations without writing them:
// the checker must find a history that is not linearizable.
func TestCounterStoreLinearizabilityCatchesLostWrites(t *testing.T) {
	dir := storeDir(t)
	model := counterModel.ToModel()
	for h := range 200 {
		hist := runCounterHistory(t, dir, uint64(h), true)
		if porcupine.CheckOperations(model, hist) == false {
			t.Logf("lost write detected in history %d", h)
			return
		}
	}
	t.Fatal("200 histories against a store that loses acknowledged writes all passed: the check is blind")
}
