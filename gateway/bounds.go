package gateway

import "errors"

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

// Refusals is a bounded record of refused APDUs: how many in all, and the
// errors of the last MaxRefusalsKept.
type Refusals struct {
	total int
	ring  []error
	next  int
}

// Add records one refusal.
func (r *Refusals) Add(err error) {
	r.total++
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
func (r *Refusals) Total() int { return r.total }

// Last returns the kept errors, oldest first (at most MaxRefusalsKept).
func (r *Refusals) Last() []error {
	out := make([]error, 0, len(r.ring))
	out = append(out, r.ring[r.next:]...)
	return append(out, r.ring[:r.next]...)
}
