package main

import (
	"bytes"
	"fmt"
	"testing"

	"github.com/verimeter/verimeter/gateway"
	"github.com/verimeter/verimeter/plc"
	"github.com/verimeter/verimeter/protocol"
	"github.com/verimeter/verimeter/wan"
)

// TestReportRefusals: a run that refused APDUs prints the count per class
// and the kept errors in the order given (gateway.Refusals.Last's, oldest
// first); a run that refused nothing prints nothing.
func TestReportRefusals(t *testing.T) {
	var out bytes.Buffer
	var none [wan.NumRejectClasses]uint64
	reportRefusals(&out, "gw1", 0, none, nil)
	if out.Len() != 0 {
		t.Fatalf("nothing refused, printed %q", out.String())
	}
	byClass := none
	byClass[wan.RejectReplay], byClass[wan.RejectSignature], byClass[wan.RejectCapacity] = 68, 1, 1
	last := []error{fmt.Errorf("%w: 3 beyond 8 dropped", plc.ErrTooManyAnswers)}
	for i := range 3 {
		last = append(last, fmt.Errorf("counter %d: %w", i, protocol.ErrReplay))
	}
	last = append(last, fmt.Errorf("tag: %w", protocol.ErrAuthentication))
	reportRefusals(&out, "gw1", 70, byClass, last)
	want := fmt.Sprintf(`gw1: refused 70 APDUs from meters (signature 1, replay 68, capacity 1); the last 5 of at most %d kept:
  refused: %v: 3 beyond 8 dropped
  refused: counter 0: %v
  refused: counter 1: %v
  refused: counter 2: %v
  refused: tag: %v
`, gateway.MaxRefusalsKept, plc.ErrTooManyAnswers, protocol.ErrReplay, protocol.ErrReplay, protocol.ErrReplay, protocol.ErrAuthentication)
	if out.String() != want {
		t.Fatalf("printed\n%s\nwant\n%s", out.String(), want)
	}
}
