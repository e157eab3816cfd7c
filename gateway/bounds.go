package gateway

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
