package meter

import (
	"time"

	"github.com/verimeter/verimeter/plc"
)

// Serve runs the meter on a PLC transport until stop is closed: frames from
// the gateway go through the meter's HDLC link into HandleAPDU, answers go
// back through the link; retransmission timers run on real time. This is
// the meter's only I/O loop (`verimeter meter run`).
func Serve(m *Meter, tr *plc.SocketTransport, gateway string, addr uint8, stop <-chan struct{}) error {
	link, err := newLink(addr)
	if err != nil {
		return err
	}
	in := make(chan plc.Frame, 64)
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
			if from == gateway {
				select {
				case in <- f:
				default:
				}
			}
		}
	}()
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	var frames []plc.Frame
	for {
		select {
		case <-stop:
			return nil
		case f := <-in:
			// An SNRM from the gateway (re)establishes the link: the link
			// restarts both sequence counters, negotiates the parameters and
			// answers with a UA at the next Poll (IEC 62056-46 8.4.3).
			ev, err := link.Receive(f, time.Now())
			if err != nil {
				continue
			}
			for _, a := range ev.Delivered {
				out, _ := m.HandleAPDU(a, time.Now())
				for _, o := range out {
					if _, err := link.Send(o); err != nil {
						return err
					}
				}
			}
		case <-tick.C:
		}
		var ev plc.LinkEvents
		frames, ev = link.Poll(time.Now(), frames[:0])
		_ = ev
		if link.Failed() {
			// The gateway went away: start a fresh link for its next session.
			if link, err = newLink(addr); err != nil {
				return err
			}
			continue
		}
		for _, f := range frames {
			tr.SendTo(gateway, f)
		}
	}
}

func newLink(addr uint8) (*plc.Link, error) {
	return plc.NewLink(plc.LinkConfig{Local: plc.ServerAddr(1, addr), Remote: plc.Addr1(1), Role: plc.Secondary, RetransmitTimeout: 200 * time.Millisecond, MaxRetries: 10, FrameLifetime: 50 * time.Millisecond})
}
