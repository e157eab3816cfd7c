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
}

type sockMeter struct {
	path string
	link *plc.Link
	in   chan plc.Frame
}

// NewSocketPLC listens on path and starts reading frames.
func NewSocketPLC(path string, timeout time.Duration) (*SocketPLC, error) {
	tr, err := plc.ListenSocket(path)
	if err != nil {
		return nil, err
	}
	s := &SocketPLC{tr: tr, meters: map[protocol.SystemTitle]*sockMeter{}, byPath: map[string]*sockMeter{}, timeout: timeout, done: make(chan struct{})}
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
	l, err := plc.NewLink(plc.LinkConfig{Local: plc.Addr1(1), Remote: plc.ServerAddr(1, addr), RetransmitTimeout: 200 * time.Millisecond, MaxRetries: 10, FrameLifetime: 50 * time.Millisecond})
	if err != nil {
		return err
	}
	m := &sockMeter{path: path, link: l, in: make(chan plc.Frame, 64)}
	s.mu.Lock()
	s.meters[meter], s.byPath[path] = m, m
	s.mu.Unlock()
	return nil
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
	if _, err := m.link.Send(apdu); err != nil {
		return nil, err
	}
	var answers [][]byte
	deadline := time.Now().Add(s.timeout)
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	var frames []plc.Frame
	for {
		var ev plc.LinkEvents
		frames, ev = m.link.Poll(time.Now(), frames[:0])
		if len(ev.Failed) > 0 || m.link.Failed() {
			return answers, ErrLinkFailed
		}
		for _, f := range frames {
			if err := s.tr.SendTo(m.path, f); err != nil {
				return answers, err
			}
		}
		if m.link.Idle() && len(answers) > 0 {
			return answers, nil
		}
		if time.Now().After(deadline) {
			return answers, fmt.Errorf("%w: no answer within %s", ErrNoAnswer, s.timeout)
		}
		select {
		case f := <-m.in:
			ev, err := m.link.Receive(f, time.Now())
			if err == nil {
				answers = append(answers, ev.Delivered...)
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
