package gateway

import (
	"fmt"
	"sync"
	"time"

	"github.com/verimeter/verimeter/plc"
	"github.com/verimeter/verimeter/protocol"
)

// SocketPLC reaches meters running as separate processes: one HDLC link per
// meter, frames carried one per Unix datagram (plc.SocketTransport), real
// time for the retransmission timers.
type SocketPLC struct {
	tr      *plc.SocketTransport
	mu      sync.Mutex
	meters  map[protocol.SystemTitle]*sockMeter
	byPath  map[string]*sockMeter
	timeout time.Duration
	done    chan struct{}
	// Tap, when set, sees every APDU the gateway sends to or receives from
	// a meter (the crash campaign's nonce audit).
	Tap Tap
	// profile is the PLC channel the link's airtime is counted on (Stats):
	// plc.SFSK, the robust profile the capacity tables assume.
	profile plc.Profile
	counts  plcCounters
}

// Stats returns what the link carried since it started. It is safe to
// call from another goroutine (a metrics scrape).
func (s *SocketPLC) Stats() PLCStats { return s.counts.snapshot() }

// send sends a frame to the meter's socket, counting it.
func (s *SocketPLC) send(path string, f plc.Frame) error {
	s.counts.count(s.profile, &f, true)
	return s.tr.SendTo(path, f)
}

type sockMeter struct {
	path      string
	addr      uint8
	link      *plc.Link
	in        chan plc.Frame
	connected bool
}

// NewSocketPLC listens on path and starts reading frames.
func NewSocketPLC(path string, timeout time.Duration) (*SocketPLC, error) {
	tr, err := plc.ListenSocket(path)
	if err != nil {
		return nil, err
	}
	s := &SocketPLC{tr: tr, meters: map[protocol.SystemTitle]*sockMeter{}, byPath: map[string]*sockMeter{}, timeout: timeout, done: make(chan struct{}), profile: plc.SFSK}
	go s.readLoop()
	return s, nil
}

func (s *SocketPLC) readLoop() {
	for {
		f, from, err := s.tr.Recv()
		if err != nil {
			select {
			case <-s.done:
				return
			default:
			}
			// A corrupt or foreign datagram is dropped: the link
			// retransmits what mattered.
			continue
		}
		s.mu.Lock()
		m := s.byPath[from]
		s.mu.Unlock()
		if m != nil {
			s.counts.count(s.profile, &f, false)
			select {
			case m.in <- f:
			default: // the link is not being served; it will retransmit
			}
		}
	}
}

// Attach declares a meter reachable at the socket path with HDLC address
// addr.
func (s *SocketPLC) Attach(meter protocol.SystemTitle, path string, addr uint8) error {
	l, err := newSocketLink(addr)
	if err != nil {
		return err
	}
	m := &sockMeter{path: path, addr: addr, link: l, in: make(chan plc.Frame, 64)}
	s.mu.Lock()
	s.meters[meter], s.byPath[path] = m, m
	s.mu.Unlock()
	return nil
}

func newSocketLink(addr uint8) (*plc.Link, error) {
	return plc.NewLink(plc.LinkConfig{Local: plc.Addr1(1), Remote: plc.ServerAddr(1, addr), Role: plc.Primary, RetransmitTimeout: 200 * time.Millisecond, MaxRetries: 10, FrameLifetime: 50 * time.Millisecond})
}

// connect (re)establishes the link with SNRM/UA (IEC 62056-46 8.4.3,
// parameters negotiated as in 8.4.5.3.2): both ends restart their sequence
// numbers, whatever a killed predecessor of either left behind. The SNRM is
// repeated until a UA arrives or the timeout passes.
func (s *SocketPLC) connect(m *sockMeter) error {
	l, err := newSocketLink(m.addr)
	if err != nil {
		return err
	}
	m.link = l
	for len(m.in) > 0 {
		<-m.in
	}
	deadline := time.Now().Add(s.timeout)
	if _, err := l.Connect(time.Now()); err != nil {
		return err
	}
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	var frames []plc.Frame
	for time.Now().Before(deadline) {
		if l.Failed() { // no UA after the link's retries: start over
			if _, err := l.Connect(time.Now()); err != nil {
				return err
			}
		}
		frames, _ = l.Poll(time.Now(), frames[:0])
		for _, f := range frames {
			if err := s.send(m.path, f); err != nil {
				time.Sleep(100 * time.Millisecond) // the meter's socket is not there (yet)
			}
		}
		select {
		case f := <-m.in:
			if _, err := l.Receive(f, time.Now()); err == nil && l.Connected() {
				m.connected = true
				return nil
			}
		case <-tick.C:
		}
	}
	return fmt.Errorf("%w: no UA to SNRM within %s", ErrLinkFailed, s.timeout)
}

// Exchange sends an APDU and waits, in real time, until the link is idle
// and an answer arrived (or the timeout passed).
func (s *SocketPLC) Exchange(meter protocol.SystemTitle, apdu []byte) ([][]byte, error) {
	s.mu.Lock()
	m := s.meters[meter]
	s.mu.Unlock()
	if m == nil {
		return nil, fmt.Errorf("gateway: meter %x not attached", meter)
	}
	if !m.connected || m.link.Failed() {
		if err := s.connect(m); err != nil {
			return nil, err
		}
	}
	if _, err := m.link.Send(apdu); err != nil {
		return nil, err
	}
	if s.Tap != nil {
		s.Tap(meter, Down, apdu)
	}
	var answers [][]byte
	dropped := 0
	deadline := time.Now().Add(s.timeout)
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	var frames []plc.Frame
	for {
		var ev plc.LinkEvents
		frames, ev = m.link.Poll(time.Now(), frames[:0])
		if len(ev.Failed) > 0 || m.link.Failed() {
			m.connected = false
			return answers, ErrLinkFailed
		}
		for _, f := range frames {
			if err := s.send(m.path, f); err != nil {
				return answers, err
			}
		}
		if m.link.Idle() && len(answers) > 0 {
			if dropped > 0 {
				return answers, fmt.Errorf("%w: %d beyond %d dropped", plc.ErrTooManyAnswers, dropped, plc.MaxAnswers)
			}
			return answers, nil
		}
		if time.Now().After(deadline) {
			return answers, fmt.Errorf("%w: no answer within %s", ErrNoAnswer, s.timeout)
		}
		select {
		case f := <-m.in:
			ev, err := m.link.Receive(f, time.Now())
			if err == nil {
				for _, a := range ev.Delivered {
					if s.Tap != nil {
						s.Tap(meter, Up, a)
					}
					if len(answers) < plc.MaxAnswers {
						answers = append(answers, a)
					} else {
						dropped++
					}
				}
			}
		case <-tick.C:
		}
	}
}

// Refused is not observable across processes.
func (s *SocketPLC) Refused(protocol.SystemTitle) []error { return nil }

// Close stops the transport.
func (s *SocketPLC) Close() error {
	close(s.done)
	return s.tr.Close()
}
