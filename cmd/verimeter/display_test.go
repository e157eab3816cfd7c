package main

import (
	"strings"
	"testing"

	"github.com/verimeter/verimeter/meter"
)

// TestDisplayShowsWhatTheHeadEndHasNotAcknowledged: the display names the
// tamper events and the signed items the meter still keeps for want of
// the head-end's acknowledgement, and says nothing of them when there are
// none.
func TestDisplayShowsWhatTheHeadEndHasNotAcknowledged(t *testing.T) {
	got := renderDisplay(meter.Status{TamperPending: 1, Unacknowledged: 3})
	for _, want := range []string{"tamper events not yet acknowledged: 1\n", "signed items kept until the head-end acknowledges them: 3\n"} {
		if !strings.Contains(got, want) {
			t.Errorf("display lacks %q:\n%s", want, got)
		}
	}
	if got := renderDisplay(meter.Status{}); strings.Contains(got, "acknowledge") {
		t.Errorf("nothing pending, yet the display says:\n%s", got)
	}
}
