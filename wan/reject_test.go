package wan

import (
	"errors"
	"fmt"
	"testing"

	"github.com/verimeter/verimeter/protocol"
)

func TestClassOf(t *testing.T) {
	for _, c := range []struct {
		err  error
		want RejectClass
	}{
		{fmt.Errorf("x: %w", protocol.ErrBadSignature), RejectSignature},
		{fmt.Errorf("%w: %w", protocol.ErrMalformed, protocol.ErrWrongSigner), RejectSignature},
		{fmt.Errorf("x: %w", protocol.ErrCertificate), RejectCertificate},
		{protocol.ErrReplay, RejectReplay},
		{fmt.Errorf("batch: %w", protocol.ErrTrailing), RejectMalformed},
		{errors.New("something else"), RejectOther},
	} {
		if got := ClassOf(c.err); got != c.want {
			t.Errorf("ClassOf(%v) = %v, want %v", c.err, got, c.want)
		}
	}
	seen := map[string]bool{}
	for c := range RejectClass(NumRejectClasses) {
		if n := c.String(); n == "" || seen[n] {
			t.Errorf("class %d has name %q, empty or repeated", c, n)
		} else {
			seen[n] = true
		}
	}
}
