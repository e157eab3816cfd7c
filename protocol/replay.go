package protocol

import "fmt"

// ReplayWindow is the sliding anti-replay window of RFC 6479 for data
// messages: it accepts each counter at most once and tolerates reordering
// within the window. Check is read-only; Update is called only after the
// message authenticated, so a forged message can never move the window.
type ReplayWindow struct {
	top    uint64 // highest counter accepted + 1; 0 when none yet
	bitmap [windowWords]uint64
}

const (
	windowWords = 16                     // 1024-bit ring (RFC 6479 section 2)
	windowSize  = (windowWords - 1) * 64 // reordering tolerated: 960 counters
)

// Check reports whether counter ic could be accepted (not seen, not too old).
func (w *ReplayWindow) Check(ic uint32) error {
	if mutantNoReplay {
		return nil
	}
	c := uint64(ic)
	if c >= w.top {
		return nil
	}
	if c+windowSize < w.top {
		return fmt.Errorf("%w: counter %d older than the window (top %d)", ErrReplay, ic, w.top-1)
	}
	if w.bitmap[(c/64)%windowWords]&(1<<(c%64)) != 0 {
		return fmt.Errorf("%w: counter %d seen", ErrReplay, ic)
	}
	return nil
}

// Update records counter ic as received; call only after Check and a
// successful authentication.
func (w *ReplayWindow) Update(ic uint32) {
	c := uint64(ic)
	if c >= w.top {
		// Slide: clear the 64-bit words between the old top and the new one.
		if w.top > 0 {
			oldWord, newWord := (w.top-1)/64, c/64
			if newWord-oldWord >= windowWords {
				w.bitmap = [windowWords]uint64{}
			} else {
				for i := oldWord + 1; i <= newWord; i++ {
					w.bitmap[i%windowWords] = 0
				}
			}
		}
		w.top = c + 1
	}
	w.bitmap[(c/64)%windowWords] |= 1 << (c % 64)
}

// StrictCounter accepts only counters larger than every one accepted before:
// commands take effect in the order issued, with no reordering window
// (DESIGN.md UC4, S9).
type StrictCounter struct {
	last uint64 // last accepted + 1; 0 when none
}

// Check reports whether ic is strictly greater than the last accepted counter.
func (s *StrictCounter) Check(ic uint32) error {
	if s.last != 0 && uint64(ic) < s.last {
		return fmt.Errorf("%w: counter %d after %d", ErrOutOfOrder, ic, s.last-1)
	}
	return nil
}

// Update records ic as accepted; call only after authentication.
func (s *StrictCounter) Update(ic uint32) { s.last = uint64(ic) + 1 }

// Last returns the last accepted counter and whether there was one.
func (s *StrictCounter) Last() (uint32, bool) {
	if s.last == 0 {
		return 0, false
	}
	return uint32(s.last - 1), true
}
