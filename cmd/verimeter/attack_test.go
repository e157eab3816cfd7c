//go:build !device

package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestAttackCommand(t *testing.T) {
	var out, errb bytes.Buffer
	log := filepath.Join(t.TempDir(), "attacks.jsonl")
	if code := run([]string{"attack", "-attempts", "3", "-log", log}, &out, &errb); code != 0 {
		t.Fatalf("exit %d: %s", code, errb.String())
	}
	if !strings.Contains(out.String(), "| replay of a data APDU |") {
		t.Fatalf("no report table:\n%s", out.String())
	}
	b, err := os.ReadFile(log)
	if err != nil || bytes.Count(b, []byte("\n")) < 3 {
		t.Fatalf("log not written: %v", err)
	}
	if code := run([]string{"attack", "-attempts", "0"}, &out, &errb); code != 2 {
		t.Fatalf("bad usage exit %d", code)
	}
}
