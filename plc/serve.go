package plc

import (
	"time"
)

// Endpoint is what a secondary station runs above its link: the handler of
// one APDU, returning the APDUs to send back (a meter's application layer;
// *meter.Meter is one). ServeSecondary drives it on a real transport; the
// simulated segment drives it on the simulated medium.
type Endpoint interface {
	HandleAPDU(apdu []byte, now time.Time) ([][]byte, error)
}

// SecondaryLinkConfig is the HDLC configuration of a secondary station at
// address addr on the segment of the primary (the gateway, address 1):
// the retransmission timers a meter's link runs with.
func SecondaryLinkConfig(addr uint8) LinkConfig {
	return LinkConfig{Local: ServerAddr(1, addr), Remote: Addr1(1), Role: Secondary, RetransmitTimeout: 200 * time.Millisecond, MaxRetries: 10, FrameLifetime: 50 * time.Millisecond}
}

// ServeSecondary runs ep as the secondary station addr on tr until stop is
// closed: frames from the primary (peer) go through the station's HDLC
// link into ep, its answers go back through the link; retransmission
// timers run on real time. A failed link (the primary went away) is
// replaced by a fresh one for the primary's next session. This is a
// meter's only I/O loop (`verimeter meter run`).
func ServeSecondary(ep Endpoint, tr *SocketTransport, peer string, addr uint8, stop <-chan struct{}) error {
	link, err := NewLink(SecondaryLinkConfig(addr))
	if err != nil {
		return err
	}
	in := make(chan Frame, 64)
	go func() {
		for {
			f, from, err := tr.Recv()
			if err != nil {
				select {
				case <-stop:
					return
				default:
					continue
				}
			}
			if from == peer {
				select {
				case in <- f:
				default:
				}
			}
		}
	}()
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	var frames []Frame
	for {
		select {
		case <-stop:
			return nil
		case f := <-in:
			// An SNRM from the primary (re)establishes the link: the link
			// restarts both sequence counters, negotiates the parameters and
			// answers with a UA at the next Poll (IEC 62056-46 8.4.3).
			ev, err := link.Receive(f, time.Now())
			if err != nil {
				continue
			}
			for _, a := range ev.Delivered {
				out, _ := ep.HandleAPDU(a, time.Now())
				for _, o := range out {
					if _, err := link.Send(o); err != nil {
						return err
					}
				}
			}
		case <-tick.C:
		}
		frames, _ = link.Poll(time.Now(), frames[:0])
		if link.Failed() {
			if link, err = NewLink(SecondaryLinkConfig(addr)); err != nil {
				return err
			}
			continue
		}
		for _, f := range frames {
			tr.SendTo(peer, f)
		}
	}
}
