package faultproxy

import (
	"bytes"
	"errors"
	"io"
	"net"
	"os"
	"sync"
	"syscall"
	"testing"
	"time"
)

const msgLen = 100

// server answers every full 100-byte request with 100 bytes and counts the
// requests it received completely and the connections that ended early.
type server struct {
	ln       net.Listener
	mu       sync.Mutex
	requests int
	partial  int
	cutAt    []int // bytes of each partial request
	wg       sync.WaitGroup
}

func newServer(t *testing.T) *server {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s := &server{ln: ln}
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			s.wg.Add(1)
			go func() {
				defer s.wg.Done()
				defer c.Close()
				buf := make([]byte, msgLen)
				for {
					n, err := io.ReadFull(c, buf)
					if err != nil {
						if n > 0 {
							s.mu.Lock()
							s.partial++
							s.cutAt = append(s.cutAt, n)
							s.mu.Unlock()
						}
						return
					}
					s.mu.Lock()
					s.requests++
					s.mu.Unlock()
					if _, err := c.Write(bytes.Repeat([]byte{'A'}, msgLen)); err != nil {
						return
					}
				}
			}()
		}
	}()
	t.Cleanup(func() { ln.Close(); s.wg.Wait() })
	return s
}

func (s *server) counts() (requests, partial int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.requests, s.partial
}

func proxyFor(t *testing.T, s *server, kind Kind, cfg Config) *Proxy {
	t.Helper()
	cfg.Target = func() string { return s.ln.Addr().String() }
	cfg.Rate = 1
	cfg.Kinds = []Kind{kind}
	if cfg.MaxOffset == 0 {
		cfg.MaxOffset = msgLen / 2 // inside the first request or answer
	}
	p, err := Listen(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.Close() })
	return p
}

// exchange sends one request through the proxy and reads the answer.
func exchange(t *testing.T, addr string, timeout time.Duration) ([]byte, error) {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(timeout))
	if _, err := c.Write(bytes.Repeat([]byte{'Q'}, msgLen)); err != nil {
		return nil, err
	}
	got := make([]byte, msgLen)
	n, err := io.ReadFull(c, got)
	return got[:n], err
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(5 * time.Second); !cond(); {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func TestPassForwardsBothWays(t *testing.T) {
	s := newServer(t)
	p := proxyFor(t, s, Pass, Config{})
	for range 3 {
		got, err := exchange(t, p.Addr(), 2*time.Second)
		if err != nil || len(got) != msgLen {
			t.Fatalf("through a clean proxy: %d bytes, %v", len(got), err)
		}
	}
	if st := p.Stats(); st.Total != 0 || st.Connections != 3 {
		t.Fatalf("stats %+v, want 3 connections and no fault", st)
	}
}

// TestDropAndResetCutTheRequest: the target sees a partial request and
// never a whole one; the client never gets an answer (a reset is seen as
// such).
func TestDropAndResetCutTheRequest(t *testing.T) {
	for _, k := range []Kind{Drop, Reset} {
		t.Run(k.String(), func(t *testing.T) {
			s := newServer(t)
			p := proxyFor(t, s, k, Config{Seed: 1})
			got, err := exchange(t, p.Addr(), 2*time.Second)
			if err == nil || len(got) == msgLen {
				t.Fatalf("answer of %d bytes through a %v", len(got), k)
			}
			if k == Reset && !errors.Is(err, syscall.ECONNRESET) {
				t.Fatalf("reset: client saw %v, want ECONNRESET", err)
			}
			if k == Drop && !errors.Is(err, io.ErrUnexpectedEOF) && !errors.Is(err, io.EOF) {
				t.Fatalf("drop: client saw %v, want EOF", err)
			}
			twin, err := Listen(Config{Target: func() string { return "" }, Seed: 1, Rate: 1, Kinds: []Kind{k}, MaxOffset: msgLen / 2})
			if err != nil {
				t.Fatal(err)
			}
			pl := twin.plan()
			twin.Close()
			waitFor(t, "the target to see the cut", func() bool {
				_, part := s.counts()
				return p.Stats().Injected[k] == 1 && (part > 0 || pl.Offset == 0)
			})
			if req, _ := s.counts(); req != 0 {
				t.Fatalf("the target received %d whole requests through a %v in the middle of the first", req, k)
			}
			if st := p.Stats(); st.Injected[k] != 1 || st.Total != 1 {
				t.Fatalf("stats %+v, want one %v", st, k)
			}
			// The cut falls at the plan's offset: the target got exactly
			// that many bytes of the request.
			s.mu.Lock()
			cut := append([]int(nil), s.cutAt...)
			s.mu.Unlock()
			if pl.Offset > 0 && (len(cut) != 1 || cut[0] != pl.Offset) {
				t.Fatalf("target received %v bytes of the cut request, the plan cuts after %d", cut, pl.Offset)
			}
		})
	}
}

func TestDelayHoldsThenDelivers(t *testing.T) {
	s := newServer(t)
	// The first seed whose first plan delays long enough to measure.
	var seed uint64
	var pl Plan
	for ; pl.Delay < 50*time.Millisecond; seed++ {
		p2, err := Listen(Config{Target: func() string { return "" }, Seed: seed, Rate: 1, Kinds: []Kind{Delay}, MaxOffset: msgLen / 2, MaxDelay: 300 * time.Millisecond})
		if err != nil {
			t.Fatal(err)
		}
		pl = p2.plan()
		p2.Close()
	}
	p := proxyFor(t, s, Delay, Config{Seed: seed - 1, MaxDelay: 300 * time.Millisecond})
	start := time.Now()
	got, err := exchange(t, p.Addr(), 3*time.Second)
	if err != nil || len(got) != msgLen {
		t.Fatalf("delayed exchange: %d bytes, %v", len(got), err)
	}
	if el := time.Since(start); el < pl.Delay {
		t.Fatalf("answer after %v, the plan delays %v", el, pl.Delay)
	}
	if p.Stats().Injected[Delay] != 1 {
		t.Fatalf("stats %+v", p.Stats())
	}
}

// TestHalfOpenNeitherAnswersNorCloses: the client's read times out (no
// answer, no EOF, no reset), and after the client gave up the target's
// side stays open, without a whole request, until Hold is over.
func TestHalfOpenNeitherAnswersNorCloses(t *testing.T) {
	s := newServer(t)
	p := proxyFor(t, s, HalfOpen, Config{Seed: 3, Hold: 300 * time.Millisecond})
	got, err := exchange(t, p.Addr(), 150*time.Millisecond)
	if !errors.Is(err, os.ErrDeadlineExceeded) || len(got) != 0 {
		t.Fatalf("half open: %d bytes, %v; want a timeout with nothing", len(got), err)
	}
	if req, part := s.counts(); req != 0 || part != 0 {
		t.Fatalf("target saw %d requests, %d partial ones while half open", req, part)
	}
	// After Hold the target's side is closed: it sees the partial request end.
	waitFor(t, "the held side to close", func() bool { _, part := s.counts(); return part == 1 })
	if p.Stats().Injected[HalfOpen] != 1 {
		t.Fatalf("stats %+v", p.Stats())
	}
}

// TestLoseReplyAfterTheTargetGotTheRequest: the target received the whole
// request (and answered); the client gets at most part of the answer.
func TestLoseReplyAfterTheTargetGotTheRequest(t *testing.T) {
	s := newServer(t)
	p := proxyFor(t, s, LoseReply, Config{Seed: 4})
	got, err := exchange(t, p.Addr(), 2*time.Second)
	if err == nil || len(got) == msgLen {
		t.Fatalf("the whole answer came through: %d bytes, %v", len(got), err)
	}
	if req, _ := s.counts(); req != 1 {
		t.Fatalf("target received %d whole requests, want 1", req)
	}
	if p.Stats().Injected[LoseReply] != 1 {
		t.Fatalf("stats %+v", p.Stats())
	}
}

// TestDuplicateReplaysAfterTheAnswer: the client's exchange succeeds, and
// the target then receives the same request a second time on a fresh
// connection.
func TestDuplicateReplaysAfterTheAnswer(t *testing.T) {
	s := newServer(t)
	p := proxyFor(t, s, Duplicate, Config{Seed: 5})
	got, err := exchange(t, p.Addr(), 2*time.Second)
	if err != nil || len(got) != msgLen {
		t.Fatalf("exchange before the replay: %d bytes, %v", len(got), err)
	}
	waitFor(t, "the replay", func() bool { req, _ := s.counts(); return req == 2 })
	if p.Stats().Injected[Duplicate] != 1 {
		t.Fatalf("stats %+v", p.Stats())
	}
}

// TestPlansDependOnTheSeedAlone: the same seed gives the same sequence of
// plans; another seed another one; the rate is respected.
func TestPlansDependOnTheSeedAlone(t *testing.T) {
	mk := func(seed uint64) []Plan {
		p, err := Listen(Config{Target: func() string { return "" }, Seed: seed, Rate: 0.5})
		if err != nil {
			t.Fatal(err)
		}
		defer p.Close()
		var out []Plan
		for range 400 {
			out = append(out, p.plan())
		}
		return out
	}
	a, b, c := mk(7), mk(7), mk(8)
	faults, kinds := 0, map[Kind]bool{}
	for i := range a {
		if a[i] != b[i] {
			t.Fatalf("plan %d differs for the same seed: %+v, %+v", i, a[i], b[i])
		}
		if a[i].Kind != Pass {
			faults++
			kinds[a[i].Kind] = true
		}
	}
	if faults < 150 || faults > 250 || len(kinds) != len(Faults()) {
		t.Fatalf("%d faults of 400 at rate 0.5, kinds %v", faults, kinds)
	}
	same := 0
	for i := range a {
		if a[i] == c[i] {
			same++
		}
	}
	if same > 300 {
		t.Fatalf("seeds 7 and 8 share %d of 400 plans", same)
	}
}

func TestListenRefusesOtherThanLoopback(t *testing.T) {
	tgt := func() string { return "127.0.0.1:1" }
	for _, a := range []string{"0.0.0.0:0", ":0", "192.0.2.1:0", "example.com:0"} {
		if _, err := Listen(Config{Listen: a, Target: tgt}); !errors.Is(err, ErrNotLoopback) {
			t.Fatalf("listen %q: %v, want ErrNotLoopback", a, err)
		}
	}
	if _, err := Listen(Config{Target: tgt, Rate: 2}); !errors.Is(err, ErrConfig) {
		t.Fatalf("rate 2: %v", err)
	}
	if _, err := Listen(Config{}); !errors.Is(err, ErrConfig) {
		t.Fatalf("no target: %v", err)
	}
}
