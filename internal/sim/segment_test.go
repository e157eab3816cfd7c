package sim

import (
	"bytes"
	"errors"
	"testing"
	"time"

	"github.com/verimeter/verimeter/gateway"
	"github.com/verimeter/verimeter/plc"
	"github.com/verimeter/verimeter/protocol"
)

// echo answers every APDU with its reverse, counting deliveries.
type echo struct{ got map[string]int }

func (e *echo) HandleAPDU(a []byte, _ time.Time) ([][]byte, error) {
	e.got[string(a)]++
	r := bytes.Clone(a)
	for i, j := 0, len(r)-1; i < j; i, j = i+1, j-1 {
		r[i], r[j] = r[j], r[i]
	}
	return [][]byte{r}, nil
}

func TestSegmentExactlyOnceUnderLoss(t *testing.T) {
	seg := NewSegment(plc.SFSK, 2, 0.10, 7, time.Unix(0, 0))
	meter := protocol.SystemTitle{1}
	ep := &echo{got: map[string]int{}}
	if err := seg.Attach(meter, 16, ep); err != nil {
		t.Fatal(err)
	}
	for i := range 40 {
		apdu := bytes.Repeat([]byte{byte(i)}, 50+i*9) // up to 400 bytes: segmented
		out, err := seg.Exchange(meter, apdu)
		if err != nil {
			t.Fatalf("exchange %d: %v", i, err)
		}
		if len(out) != 1 || len(out[0]) != len(apdu) {
			t.Fatalf("exchange %d: %d answers", i, len(out))
		}
		if ep.got[string(apdu)] != 1 {
			t.Fatalf("exchange %d delivered %d times", i, ep.got[string(apdu)])
		}
	}
	frames, lost, _ := seg.Medium().Stats()
	if lost == 0 {
		t.Fatalf("no frame lost in %d at 10 %% loss: the test exercised nothing", frames)
	}
}

// TestSegmentReconnectsAfterLinkFailure: when the medium drops everything
// the exchange fails; once it carries frames again the next exchange sets
// the link up anew with SNRM/UA (the meter's end restarts on the SNRM) and
// gets its answer.
func TestSegmentReconnectsAfterLinkFailure(t *testing.T) {
	seg := NewSegment(plc.SFSK, 2, 0, 3, time.Unix(0, 0))
	meter := protocol.SystemTitle{2}
	ep := &echo{got: map[string]int{}}
	if err := seg.Attach(meter, 17, ep); err != nil {
		t.Fatal(err)
	}
	if out, err := seg.Exchange(meter, []byte("before")); err != nil || len(out) != 1 {
		t.Fatalf("first exchange: %v, %d answers", err, len(out))
	}
	good := seg.medium
	seg.medium = plc.NewMedium(plc.SFSK, 2, 1, 3) // every frame lost
	seg.medium.Advance(good.Now())
	if _, err := seg.Exchange(meter, []byte("lost")); !errors.Is(err, gateway.ErrLinkFailed) {
		t.Fatalf("exchange over a dead medium: %v", err)
	}
	now := seg.medium.Now()
	seg.medium = good
	seg.medium.Advance(now - good.Now())
	out, err := seg.Exchange(meter, []byte("after"))
	if err != nil || len(out) != 1 || string(out[0]) != "retfa" {
		t.Fatalf("exchange after the medium came back: %v, answers %q", err, out)
	}
}

// TestAnswerFloodBoundedHonestMeterAnswers: a compromised meter on the
// segment answers each request with a hundred APDUs; the gateway keeps at
// most plc.MaxAnswers of them and ends the exchange with plc.ErrTooManyAnswers,
// and the honest meter beside it is exchanged with as before.
func TestAnswerFloodBoundedHonestMeterAnswers(t *testing.T) {
	seg := NewSegment(plc.SFSK, 0, 0, 1, time.Unix(0, 0))
	honest, rogue := protocol.SystemTitle{'V', 'M', 'R', 1}, protocol.SystemTitle{'V', 'M', 'R', 2}
	if err := seg.Attach(honest, 16, &echo{got: map[string]int{}}); err != nil {
		t.Fatal(err)
	}
	if err := seg.Attach(rogue, 17, chatty{n: 100}); err != nil {
		t.Fatal(err)
	}
	for i := range 3 {
		out, err := seg.Exchange(rogue, []byte{'r', byte(i)})
		if !errors.Is(err, plc.ErrTooManyAnswers) || len(out) > plc.MaxAnswers {
			t.Fatalf("exchange %d with the rogue meter: %d answers kept, %v", i, len(out), err)
		}
		out, err = seg.Exchange(honest, []byte{'h', byte(i)})
		if err != nil || len(out) != 1 || string(out[0]) != string([]byte{byte(i), 'h'}) {
			t.Fatalf("exchange %d with the honest meter: %q, %v", i, out, err)
		}
	}
}

// chatty answers every APDU with n copies of itself.
type chatty struct{ n int }

func (c chatty) HandleAPDU(a []byte, _ time.Time) ([][]byte, error) {
	out := make([][]byte, c.n)
	for i := range out {
		out[i] = append([]byte{byte(i)}, a...)
	}
	return out, nil
}

// TestSegmentAttackerHoldsAndSlipsIn: intercepted APDUs never reach the
// meter and come back to the attacker in order; an APDU slipped in up the
// medium arrives before the meter's own answer, once.
func TestSegmentAttackerHoldsAndSlipsIn(t *testing.T) {
	seg := NewSegment(plc.SFSK, 1, 0, 5, time.Unix(0, 0))
	meter := protocol.SystemTitle{3}
	ep := &echo{got: map[string]int{}}
	if err := seg.Attach(meter, 18, ep); err != nil {
		t.Fatal(err)
	}
	seg.Intercept(meter, 2)
	for _, a := range []string{"one", "two"} {
		if out, err := seg.Exchange(meter, []byte(a)); err != nil || len(out) != 0 {
			t.Fatalf("intercepted %q: %d answers, %v", a, len(out), err)
		}
	}
	held := seg.Intercepted(meter)
	if len(held) != 2 || string(held[0]) != "one" || string(held[1]) != "two" || len(ep.got) != 0 {
		t.Fatalf("held %q, meter saw %v", held, ep.got)
	}
	if err := seg.InjectUp(meter, []byte("forged")); err != nil {
		t.Fatal(err)
	}
	for i, want := range [][]string{{"forged", "eerht"}, {"ruof"}} {
		out, err := seg.Exchange(meter, []byte([]string{"three", "four"}[i]))
		if err != nil || len(out) != len(want) {
			t.Fatalf("exchange %d: %q, %v; want %q", i, out, err, want)
		}
		for j := range want {
			if string(out[j]) != want[j] {
				t.Fatalf("exchange %d: %q, want %q", i, out, want)
			}
		}
	}
	if ep.got["three"] != 1 || ep.got["four"] != 1 {
		t.Fatalf("meter saw %v", ep.got)
	}
}
