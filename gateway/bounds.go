package gateway

import (
	"errors"
	"sync/atomic"

	"github.com/verimeter/verimeter/wan"
)

// MaxAnswers caps the APDUs the gateway takes from a meter in one exchange.
// An honest meter answers a request with one APDU; a compromised one could
// stream them for as long as the exchange lasts. The first MaxAnswers are
// kept (the answer to the request is among them when the meter is honest),
// the rest are read and dropped, and the exchange ends in
// ErrTooManyAnswers.
const MaxAnswers = 8

// ErrTooManyAnswers marks an exchange in which the meter sent more than
// MaxAnswers APDUs.
var ErrTooManyAnswers = errors.New("gateway: meter sent more answers than one exchange takes")

// MaxRefusalsKept caps the refused APDUs a gateway, and a simulated
// segment per meter, keeps for its report. A compromised meter can make
// the gateway refuse any number of APDUs; the gateway counts them all but
// keeps only the last MaxRefusalsKept errors, so its memory does not grow
// with the attack.
const MaxRefusalsKept = 64

// Refusals is a bounded record of refused APDUs: how many in all and in
// each class, and the errors of the last MaxRefusalsKept. The counts may be
// read (Total, ByClass) while the gateway's owner adds (a metrics scrape);
// Add and Last are for the owner's goroutine only.
type Refusals struct {
	total   atomic.Int64
	byClass [wan.NumRejectClasses]atomic.Uint64
	ring    []error
	next    int
}

// Add records one refusal.
func (r *Refusals) Add(err error) {
	r.total.Add(1)
	r.byClass[refusalClass(err)].Add(1)
	if r.ring == nil {
		r.ring = make([]error, 0, MaxRefusalsKept)
	}
	if len(r.ring) < MaxRefusalsKept {
		r.ring = append(r.ring, err)
		return
	}
	r.ring[r.next] = err
	r.next = (r.next + 1) % MaxRefusalsKept
}

// Total is the number of refusals ever recorded.
func (r *Refusals) Total() int { return int(r.total.Load()) }

// ByClass is the number of refusals ever recorded in each class, indexed
// by wan.RejectClass: what an operator's dashboard shows of the APDUs a
// gateway refused from its meters (replays, forgeries, garbage).
func (r *Refusals) ByClass() [wan.NumRejectClasses]uint64 {
	var out [wan.NumRejectClasses]uint64
	for i := range out {
		out[i] = r.byClass[i].Load()
	}
	return out
}

// refusalClass is the class of an APDU the gateway refused.
func refusalClass(err error) wan.RejectClass {
	if errors.Is(err, ErrTooManyAnswers) {
		return wan.RejectCapacity
	}
	return wan.ClassOf(err)
}

// Last returns the kept errors, oldest first (at most MaxRefusalsKept).
func (r *Refusals) Last() []error {
	out := make([]error, 0, len(r.ring))
	out = append(out, r.ring[r.next:]...)
	return append(out, r.ring[:r.next]...)
}
