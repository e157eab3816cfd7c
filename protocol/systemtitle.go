package protocol

import (
	"encoding/hex"
	"fmt"
)

// ParseSystemTitle reads a system title as configuration files, URLs and
// JSON bodies write it: 16 hex digits. Every role and tool parses titles
// here, so they accept and refuse the same strings; the error wraps
// ErrMalformed.
func ParseSystemTitle(s string) (SystemTitle, error) {
	var t SystemTitle
	if len(s) == 2*SystemTitleLen {
		if _, err := hex.Decode(t[:], []byte(s)); err == nil {
			return t, nil
		}
	}
	return SystemTitle{}, fmt.Errorf("%w: system title %q: want %d hex digits", ErrMalformed, s, 2*SystemTitleLen)
}
