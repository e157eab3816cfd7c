package main

import (
	"bytes"
	"strings"
	"testing"
)

func TestPLCCapacityCommand(t *testing.T) {
	var out, errb bytes.Buffer
	if code := run([]string{"plc", "capacity", "-meters", "50", "-loss", "0.1"}, &out, &errb); code != 0 {
		t.Fatalf("exit %d: %s", code, errb.String())
	}
	if !strings.Contains(out.String(), "| S-FSK 2.4 kbit/s | 50 | 2 | 10 %") {
		t.Fatalf("no S-FSK row for 50 meters:\n%s", out.String())
	}
	if code := run([]string{"plc", "capacity", "-loss", "2", "-meters", "5"}, &out, &errb); code != 2 {
		t.Fatalf("bad loss accepted: exit %d", code)
	}
}
