package sim

import (
	"fmt"
	"slices"
	"time"

	"github.com/verimeter/verimeter/gateway"
	"github.com/verimeter/verimeter/plc"
	"github.com/verimeter/verimeter/protocol"
)

type pair struct {
	gw, m *plc.Link
	ep    plc.Endpoint
	// Errors the meter's handler returned (refused APDUs), for the report:
	// the last gateway.MaxRefusalsKept, oldest first.
	refused []error
	// The attacker's hold on the link: how many of the gateway's next
	// APDUs it takes off the medium, those it took, and APDUs it slips in
	// before the meter's next answers.
	intercept int
	held      [][]byte
	injectUp  [][]byte
}

// Segment is one simulated PLC segment: a seeded medium (plc.Medium)
// shared by the gateway and its meters, and an acknowledged HDLC link per
// meter. It is the gateway's medium (gateway.PLC) in the demo and the
// tests, as gateway.SocketPLC is between processes; its Tap and InjectDown
// are the attacker on the power line.
type Segment struct {
	medium *plc.Medium
	base   time.Time
	links  map[protocol.SystemTitle]*pair
	Tap    gateway.Tap
	frames []plc.Frame
}

// NewSegment returns a segment on the given medium profile.
func NewSegment(p plc.Profile, hops int, loss float64, seed uint64, base time.Time) *Segment {
	return &Segment{medium: plc.NewMedium(p, hops, loss, seed), base: base, links: map[protocol.SystemTitle]*pair{}}
}

// Medium exposes the simulated medium (airtime, frame statistics).
func (s *Segment) Medium() *plc.Medium { return s.medium }

// Now is the segment's virtual time.
func (s *Segment) Now() time.Time { return s.base.Add(s.medium.Now()) }

func linkConfig(local, remote plc.Address, role plc.Role) plc.LinkConfig {
	return plc.LinkConfig{Local: local, Remote: remote, Role: role, RetransmitTimeout: 3 * time.Second, MaxRetries: 8, FrameLifetime: 2 * time.Second}
}

// Attach connects a meter to the segment with HDLC address addr. The
// gateway's end (the primary station) starts with SNRM/UA on the medium at
// the first exchange.
func (s *Segment) Attach(meter protocol.SystemTitle, addr uint8, ep plc.Endpoint) error {
	gw, err := plc.NewLink(linkConfig(plc.Addr1(1), plc.ServerAddr(1, addr), plc.Primary))
	if err != nil {
		return err
	}
	m, err := plc.NewLink(linkConfig(plc.ServerAddr(1, addr), plc.Addr1(1), plc.Secondary))
	if err != nil {
		return err
	}
	if _, err := gw.Connect(s.Now()); err != nil {
		return err
	}
	s.links[meter] = &pair{gw: gw, m: m, ep: ep}
	return nil
}

// Replace swaps the meter's endpoint (the meter restarted) and resets its
// links, as a power cycle does.
func (s *Segment) Replace(meter protocol.SystemTitle, addr uint8, ep plc.Endpoint) error {
	return s.Attach(meter, addr, ep)
}

// Refused returns the last errors the meter's handler returned (at most
// gateway.MaxRefusalsKept, oldest first).
func (s *Segment) Refused(meter protocol.SystemTitle) []error {
	if p := s.links[meter]; p != nil {
		return slices.Clone(p.refused)
	}
	return nil
}

// transmit puts a frame on the medium; it returns whether it arrived.
func (s *Segment) transmit(node string, f plc.Frame) (plc.Frame, bool, error) {
	b, err := f.Marshal()
	if err != nil {
		return plc.Frame{}, false, err
	}
	if !s.medium.Transmit(node, len(b)) {
		return plc.Frame{}, false, nil
	}
	g, err := plc.DecodeFrame(b, plc.DefaultMaxInfo)
	return g, err == nil, err
}

// Exchange sends one APDU from the gateway to meter and runs the medium
// until both links are idle; it returns the APDUs the meter sent back.
func (s *Segment) Exchange(meter protocol.SystemTitle, apdu []byte) ([][]byte, error) {
	p := s.links[meter]
	if p == nil {
		return nil, fmt.Errorf("sim: meter %x not on this segment", meter)
	}
	if p.gw.Failed() || p.m.Failed() {
		// A link that gave up is set up again with SNRM/UA (the meter's
		// end restarts on the SNRM), as the gateway does over sockets.
		if _, err := p.gw.Connect(s.Now()); err != nil {
			return nil, err
		}
	}
	if _, err := p.gw.Send(apdu); err != nil {
		return nil, err
	}
	var answers [][]byte
	dropped := 0
	node := fmt.Sprintf("%x", meter)
	for step := 0; ; step++ {
		if step > 100000 {
			return answers, fmt.Errorf("%w: no progress", gateway.ErrLinkFailed)
		}
		progress := false
		var ev plc.LinkEvents
		s.frames, ev = p.gw.Poll(s.Now(), s.frames[:0])
		if len(ev.Failed) > 0 || p.gw.Failed() {
			return answers, gateway.ErrLinkFailed
		}
		for _, f := range s.frames {
			progress = true
			g, ok, err := s.transmit("gateway", f)
			if err != nil {
				return answers, err
			}
			if !ok {
				continue
			}
			mev, err := p.m.Receive(g, s.Now())
			if err != nil {
				continue // a frame the link refuses (duplicate, out of window) is dropped
			}
			for _, a := range mev.Delivered {
				if p.intercept > 0 {
					p.intercept--
					p.held = append(p.held, append([]byte(nil), a...))
					continue
				}
				if s.Tap != nil {
					s.Tap(meter, gateway.Down, a)
				}
				out, herr := p.ep.HandleAPDU(a, s.Now())
				if herr != nil {
					if len(p.refused) == gateway.MaxRefusalsKept {
						p.refused = slices.Delete(p.refused, 0, 1)
					}
					p.refused = append(p.refused, herr)
				}
				for _, o := range out {
					if _, err := p.m.Send(o); err != nil {
						return answers, err
					}
				}
			}
		}
		s.frames, ev = p.m.Poll(s.Now(), s.frames[:0])
		if len(ev.Failed) > 0 || p.m.Failed() {
			return answers, gateway.ErrLinkFailed
		}
		for _, f := range s.frames {
			progress = true
			g, ok, err := s.transmit(node, f)
			if err != nil {
				return answers, err
			}
			if !ok {
				continue
			}
			gev, err := p.gw.Receive(g, s.Now())
			if err != nil {
				continue
			}
			for _, a := range gev.Delivered {
				if s.Tap != nil {
					s.Tap(meter, gateway.Up, a)
				}
				if len(answers) < plc.MaxAnswers {
					answers = append(answers, a)
				} else {
					dropped++
				}
			}
		}
		if p.gw.Idle() && p.m.Idle() {
			if len(p.injectUp) > 0 {
				answers = append(p.injectUp, answers...)
				p.injectUp = nil
			}
			if dropped > 0 {
				return answers, fmt.Errorf("%w: %d beyond %d dropped", plc.ErrTooManyAnswers, dropped, plc.MaxAnswers)
			}
			return answers, nil
		}
		if !progress {
			s.medium.Advance(500 * time.Millisecond) // wait for a retransmission timer
		}
	}
}

// InjectDown delivers an attacker's APDU to the meter as if it came from
// the gateway (an attacker on the medium can forge HDLC frames: they carry
// no cryptography), and returns the meter's verdict. It costs airtime.
func (s *Segment) InjectDown(meter protocol.SystemTitle, apdu []byte) error {
	p := s.links[meter]
	if p == nil {
		return fmt.Errorf("sim: meter %x not on this segment", meter)
	}
	s.medium.Transmit("attacker", len(apdu)+12)
	_, err := p.ep.HandleAPDU(apdu, s.Now())
	return err
}

// Intercept has the attacker take the gateway's next n APDUs to meter off
// the medium: the meter never sees them (the exchange gets no answer) and
// Intercepted hands them to the attacker, to deliver later, reordered or
// altered, with InjectDown.
func (s *Segment) Intercept(meter protocol.SystemTitle, n int) {
	if p := s.links[meter]; p != nil {
		p.intercept = n
	}
}

// Intercepted returns the APDUs taken off the medium since the last call.
func (s *Segment) Intercepted(meter protocol.SystemTitle) [][]byte {
	p := s.links[meter]
	if p == nil {
		return nil
	}
	held := p.held
	p.held = nil
	return held
}

// InjectUp has the attacker slip apdu in, as if the meter sent it, before
// the meter's answers of the next exchange with meter: the gateway opens
// it first. It costs airtime.
func (s *Segment) InjectUp(meter protocol.SystemTitle, apdu []byte) error {
	p := s.links[meter]
	if p == nil {
		return fmt.Errorf("sim: meter %x not on this segment", meter)
	}
	s.medium.Transmit("attacker", len(apdu)+12)
	p.injectUp = append(p.injectUp, append([]byte(nil), apdu...))
	return nil
}
