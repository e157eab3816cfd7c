package faultproxy

import (
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"sync"
	"sync/atomic"
	"time"
)

// Kind is a fault the proxy injects into one connection.
type Kind int

// The faults. Each one fires at most once per connection, at a byte offset
// drawn for it, and only counts when it fired.
const (
	// Pass forwards the connection untouched.
	Pass Kind = iota
	// Drop closes both sides cleanly (FIN) after Offset bytes from the
	// client: a connection lost in the middle of a request.
	Drop
	// Reset aborts both sides (RST) after Offset bytes from the client.
	Reset
	// Delay holds the client's bytes for a while after Offset bytes, then
	// forwards everything.
	Delay
	// HalfOpen stops forwarding in both directions after Offset bytes from
	// the client without closing anything; the head-end's side stays open
	// for Config.Hold even after the client gave up, as when a NAT or link
	// dies silently.
	HalfOpen
	// LoseReply forwards the whole request but stops the server's bytes
	// after Offset of them and resets the client: the head-end may have
	// committed, the gateway never hears it and sends the batch again.
	LoseReply
	// Duplicate forwards the connection, then, once it ended, replays
	// every byte the client sent on a fresh connection to the target.
	Duplicate
	numKinds
)

var kindNames = [numKinds]string{"pass", "drop", "reset", "delay", "half-open", "lose-reply", "duplicate"}

// String names the kind in the campaign's tables.
func (k Kind) String() string {
	if k < 0 || k >= numKinds {
		return fmt.Sprintf("kind(%d)", int(k))
	}
	return kindNames[k]
}

// Faults lists every fault kind (all but Pass).
func Faults() []Kind { return []Kind{Drop, Reset, Delay, HalfOpen, LoseReply, Duplicate} }

// ErrNotLoopback refuses a listen address off the loopback interface: the
// proxy is a test tool and never serves a real network.
var ErrNotLoopback = errors.New("faultproxy: listen address is not on 127.0.0.1 or ::1")

// ErrConfig marks an unusable configuration.
var ErrConfig = errors.New("faultproxy: bad configuration")

// Config is what a proxy runs with.
type Config struct {
	// Listen is the loopback address to accept on ("127.0.0.1:0" when
	// empty).
	Listen string
	// Target returns the address to forward to, asked for each connection
	// (a head-end restarted on a new port is followed).
	Target func() string
	// Seed fixes the sequence of fault plans: the n-th accepted connection
	// always gets the same plan for the same seed.
	Seed uint64
	// Rate is the probability that a connection is planned a fault.
	Rate float64
	// Kinds are drawn from with equal probability (Faults() when empty).
	Kinds []Kind
	// MaxOffset bounds the byte offset at which a fault fires (drawn
	// uniformly in [0, MaxOffset)); 0 means 4096.
	MaxOffset int
	// MaxDelay bounds a Delay (drawn in [0, MaxDelay]); 0 means 200 ms.
	MaxDelay time.Duration
	// Hold is how long a half-open connection keeps the target's side open
	// after the client gave up; 0 means 5 s.
	Hold time.Duration
}

// Plan is the fault drawn for one connection.
type Plan struct {
	Kind   Kind
	Offset int
	Delay  time.Duration
}

// Stats counts what the proxy did.
type Stats struct {
	Connections int
	// Injected counts the faults that fired, by kind.
	Injected map[Kind]int
	// Total is the sum of Injected.
	Total int
}

// Proxy is a running fault-injecting proxy.
type Proxy struct {
	cfg     Config
	ln      net.Listener
	mu      sync.Mutex
	rng     *rand.Rand
	conns   int
	fired   [numKinds]atomic.Int64
	enabled atomic.Bool
	done    chan struct{}
	wg      sync.WaitGroup
	open    map[net.Conn]struct{}
}

// Listen starts a proxy.
func Listen(cfg Config) (*Proxy, error) {
	if cfg.Listen == "" {
		cfg.Listen = "127.0.0.1:0"
	}
	host, _, err := net.SplitHostPort(cfg.Listen)
	if err != nil {
		return nil, fmt.Errorf("%w: %q: %w", ErrConfig, cfg.Listen, err)
	}
	if ip := net.ParseIP(host); ip == nil || !ip.IsLoopback() {
		return nil, fmt.Errorf("%w: %q", ErrNotLoopback, cfg.Listen)
	}
	if cfg.Target == nil {
		return nil, fmt.Errorf("%w: no target", ErrConfig)
	}
	if cfg.Rate < 0 || cfg.Rate > 1 {
		return nil, fmt.Errorf("%w: rate %v not in [0, 1]", ErrConfig, cfg.Rate)
	}
	if len(cfg.Kinds) == 0 {
		cfg.Kinds = Faults()
	}
	for _, k := range cfg.Kinds {
		if k < 0 || k >= numKinds {
			return nil, fmt.Errorf("%w: %v", ErrConfig, k)
		}
	}
	if cfg.MaxOffset <= 0 {
		cfg.MaxOffset = 4096
	}
	if cfg.MaxDelay <= 0 {
		cfg.MaxDelay = 200 * time.Millisecond
	}
	if cfg.Hold <= 0 {
		cfg.Hold = 5 * time.Second
	}
	ln, err := net.Listen("tcp", cfg.Listen)
	if err != nil {
		return nil, fmt.Errorf("faultproxy: %w", err)
	}
	p := &Proxy{cfg: cfg, ln: ln, rng: rand.New(rand.NewPCG(cfg.Seed, 0x6661756c74)), done: make(chan struct{}), open: map[net.Conn]struct{}{}}
	p.enabled.Store(true)
	p.wg.Add(1)
	go p.accept()
	return p, nil
}

// Addr is the address the proxy accepts on.
func (p *Proxy) Addr() string { return p.ln.Addr().String() }

// SetFaults turns fault injection on or off for connections accepted from
// now on (a campaign's last round runs clean to drain what is queued).
func (p *Proxy) SetFaults(on bool) { p.enabled.Store(on) }

// Stats returns the counts so far.
func (p *Proxy) Stats() Stats {
	p.mu.Lock()
	s := Stats{Connections: p.conns, Injected: map[Kind]int{}}
	p.mu.Unlock()
	for k := Drop; k < numKinds; k++ {
		if n := int(p.fired[k].Load()); n > 0 {
			s.Injected[k] = n
			s.Total += n
		}
	}
	return s
}

// Close stops accepting, closes every connection and waits for the
// proxy's goroutines.
func (p *Proxy) Close() error {
	close(p.done)
	err := p.ln.Close()
	p.mu.Lock()
	for c := range p.open {
		c.Close()
	}
	p.mu.Unlock()
	p.wg.Wait()
	return err
}

// plan draws the next connection's fault.
func (p *Proxy) plan() Plan {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.conns++
	// Always draw the same numbers, so the plan of the n-th connection
	// depends on the seed alone.
	fault, k, off, d := p.rng.Float64(), p.rng.IntN(len(p.cfg.Kinds)), p.rng.IntN(p.cfg.MaxOffset), p.rng.Int64N(int64(p.cfg.MaxDelay)+1)
	if fault >= p.cfg.Rate || !p.enabled.Load() {
		return Plan{Kind: Pass}
	}
	return Plan{Kind: p.cfg.Kinds[k], Offset: off, Delay: time.Duration(d)}
}

func (p *Proxy) track(c net.Conn) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	select {
	case <-p.done:
		c.Close()
		return false
	default:
	}
	p.open[c] = struct{}{}
	return true
}

func (p *Proxy) untrack(c net.Conn) {
	p.mu.Lock()
	delete(p.open, c)
	p.mu.Unlock()
	c.Close()
}

func (p *Proxy) accept() {
	defer p.wg.Done()
	for {
		c, err := p.ln.Accept()
		if err != nil {
			select {
			case <-p.done:
				return
			default:
			}
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				continue
			}
			return
		}
		if !p.track(c) {
			continue
		}
		pl := p.plan()
		p.wg.Add(1)
		go func() {
			defer p.wg.Done()
			p.serve(c, pl)
		}()
	}
}

// conn is one proxied connection and the state of its fault.
type conn struct {
	p        *Proxy
	plan     Plan
	client   net.Conn
	target   net.Conn
	mu       sync.Mutex
	fired    bool
	frozen   bool // half open: nothing is forwarded any more
	sent     []byte
	answered bool
	closed   chan struct{}
	once     sync.Once
}

// maxRecorded caps what a Duplicate keeps of a client's stream; a longer
// stream is not replayed.
const maxRecorded = 4 << 20

func (p *Proxy) serve(client net.Conn, pl Plan) {
	defer p.untrack(client)
	d := net.Dialer{Timeout: 5 * time.Second}
	target, err := d.Dial("tcp", p.cfg.Target())
	if err != nil {
		return
	}
	if !p.track(target) {
		return
	}
	defer p.untrack(target)
	c := &conn{p: p, plan: pl, client: client, target: target, closed: make(chan struct{})}
	upDone, downDone := make(chan struct{}), make(chan struct{})
	go func() { defer close(upDone); c.pump(client, target, true) }()
	go func() { defer close(downDone); c.pump(target, client, false) }()
	<-upDone // the client closed, or the connection ended
	c.mu.Lock()
	frozen, replay := c.frozen, pl.Kind == Duplicate && c.answered && len(c.sent) > 0 && len(c.sent) <= maxRecorded
	c.mu.Unlock()
	if frozen {
		// Half open: the target's side is neither answered nor closed
		// until Hold is over (or the proxy closes).
		select {
		case <-time.After(p.cfg.Hold):
		case <-p.done:
		}
		target.Close()
	}
	<-downDone
	if replay {
		p.replay(c.sent)
	}
}

// replay sends a recorded client stream again on a fresh connection and
// reads whatever comes back until the target closes or a few seconds pass.
func (p *Proxy) replay(sent []byte) {
	d := net.Dialer{Timeout: 5 * time.Second}
	t, err := d.Dial("tcp", p.cfg.Target())
	if err != nil {
		return
	}
	if !p.track(t) {
		return
	}
	defer p.untrack(t)
	t.SetDeadline(time.Now().Add(3 * time.Second))
	if _, err := t.Write(sent); err != nil {
		return
	}
	p.fired[Duplicate].Add(1)
	io.Copy(io.Discard, t)
}

// end closes both sides once: cleanly, or with RST when abort is set.
func (c *conn) end(abort bool) {
	c.mu.Lock()
	frozen := c.frozen
	c.mu.Unlock()
	c.once.Do(func() {
		if abort {
			for _, x := range []net.Conn{c.client, c.target} {
				if tc, ok := x.(*net.TCPConn); ok {
					tc.SetLinger(0)
				}
			}
		}
		c.client.Close()
		if !frozen {
			c.target.Close()
		}
		close(c.closed)
	})
}

// pump copies one direction, firing the plan's fault when the stream
// reaches its offset (up: client to target).
func (c *conn) pump(from, to net.Conn, up bool) {
	buf := make([]byte, 16<<10)
	var n int // bytes of this direction seen so far
	for {
		r, err := from.Read(buf)
		if r > 0 {
			if !c.forward(to, buf[:r], n, up) {
				return
			}
			n += r
		}
		if err != nil {
			c.mu.Lock()
			frozen := c.frozen
			c.mu.Unlock()
			if frozen {
				if up {
					c.client.Close() // the client gave up; the target's side stays
				}
				return
			}
			c.end(false)
			return
		}
	}
}

// forward writes chunk (which starts at offset at of its direction) to to,
// firing the fault inside it if its offset falls there. It reports whether
// the pump goes on.
func (c *conn) forward(to net.Conn, chunk []byte, at int, up bool) bool {
	c.mu.Lock()
	if c.frozen {
		c.mu.Unlock()
		return true // half open: read and drop, so the sender never notices
	}
	k := c.plan.Kind
	mine := !c.fired && k != Pass && k != Duplicate && (k == LoseReply) != up
	fire := mine && c.plan.Offset < at+len(chunk)
	if up && k == Duplicate && len(c.sent)+len(chunk) <= maxRecorded {
		c.sent = append(c.sent, chunk...)
	}
	if !up && len(chunk) > 0 {
		c.answered = true
	}
	if fire {
		c.fired = true
	}
	c.mu.Unlock()
	if !fire {
		_, err := to.Write(chunk)
		return err == nil
	}
	cut := max(0, c.plan.Offset-at)
	if _, err := to.Write(chunk[:cut]); err != nil {
		return false
	}
	c.p.fired[k].Add(1)
	switch k {
	case Drop:
		c.end(false)
		return false
	case Reset, LoseReply:
		c.end(true)
		return false
	case Delay:
		select {
		case <-time.After(c.plan.Delay):
		case <-c.closed:
			return false
		case <-c.p.done:
			return false
		}
		_, err := to.Write(chunk[cut:])
		return err == nil
	case HalfOpen:
		c.mu.Lock()
		c.frozen = true
		c.mu.Unlock()
		return true
	}
	return false
}
