package gateway

import (
	"errors"
	"sync/atomic"

	"github.com/verimeter/verimeter/plc"
	"github.com/verimeter/verimeter/wan"
)

// MaxRefusalsKept caps the refused APDUs a gateway, and a simulated
// segment per meter, keeps for its report. A compromised meter can make
// the gateway refuse any number of APDUs; the gateway counts them all but
// keeps only the last MaxRefusalsKept errors, so its memory does not grow
// with the attack.
const MaxRefusalsKept = 64

// Refusals is a bounded record of refused APDUs: how many in all and in
// each class, and the errors of the last MaxRefusalsKept. The counts may be
// read (Total, ByClass) while the gateway's owner adds (a metrics scrape);
// add and Last are for the owner's goroutine only.
type Refusals struct {
	total   atomic.Int64
	byClass [wan.NumRejectClasses]atomic.Uint64
	ring    []error
	next    int
}

// add records one refusal.
func (r *Refusals) add(err error) {
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
	if errors.Is(err, plc.ErrTooManyAnswers) {
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
