//go:build !device

package main

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/verimeter/verimeter/internal/sim"
)

func TestVerifyExportedDataAndRejectAltered(t *testing.T) {
	dir := t.TempDir()
	if _, err := runScenario(sim.Config{Meters: 10, Gateways: 2, Days: 1, Seed: 4, Export: dir}); err != nil {
		t.Fatal(err)
	}
	files, _ := filepath.Glob(filepath.Join(dir, "*.cbor"))
	if len(files) < 5 {
		t.Fatalf("exported %d files", len(files))
	}
	args := append([]string{"verify", "-roots", filepath.Join(dir, "root.pem"), "-certs", filepath.Join(dir, "certs.pem")}, files...)
	var out, errb bytes.Buffer
	if code := run(args, &out, &errb); code != 0 {
		t.Fatalf("exit %d:\n%s%s", code, out.String(), errb.String())
	}
	if strings.Count(out.String(), "OK ") != len(files) {
		t.Fatalf("not all verified:\n%s", out.String())
	}
	// Each exported file comes with its transparency log evidence.
	if strings.Count(out.String(), "; logged by ") != len(files) {
		t.Fatalf("not all with log evidence:\n%s", out.String())
	}
	// Alter the value of the exported reading: the verdict must name the
	// signature, and the exit code must say so.
	reading := filepath.Join(dir, "reading-0.cbor")
	b, _ := os.ReadFile(reading)
	b[len(b)-67] ^= 1
	os.WriteFile(reading, b, 0o644)
	out.Reset()
	if code := run(append(args[:5:5], reading), &out, &errb); code != 1 {
		t.Fatalf("altered reading: exit %d\n%s", code, out.String())
	}
	if !strings.Contains(out.String(), "REJECTED") || !strings.Contains(out.String(), "signature invalid") {
		t.Fatalf("rejection does not name why:\n%s", out.String())
	}
	// Another root: nothing verifies.
	other := t.TempDir()
	if _, err := runScenario(sim.Config{Meters: 2, Gateways: 1, Days: 1, Seed: 9, Export: other}); err != nil {
		t.Fatal(err)
	}
	out.Reset()
	if code := run(append([]string{"verify", "-roots", filepath.Join(other, "root.pem"), "-certs", filepath.Join(dir, "certs.pem")}, files[0]), &out, &errb); code != 1 {
		t.Fatalf("foreign root accepted:\n%s", out.String())
	}
	// A file cut short says "truncated", whichever part it ends in; an
	// empty file says so.
	full, _ := os.ReadFile(filepath.Join(dir, "reading-0.cbor"))
	proof, _ := os.ReadFile(files[0])
	cut := t.TempDir()
	var cuts []string
	for i, c := range [][]byte{full[:1], full[:5], full[:40], full[:len(full)-10], proof[:len(proof)/2]} {
		p := filepath.Join(cut, fmt.Sprintf("cut-%d.cbor", i))
		os.WriteFile(p, c, 0o644)
		cuts = append(cuts, p)
	}
	empty := filepath.Join(cut, "empty.cbor")
	os.WriteFile(empty, nil, 0o644)
	out.Reset()
	if code := run(append(append(args[:5:5], cuts...), empty), &out, &errb); code != 1 {
		t.Fatalf("cut files: exit %d\n%s", code, out.String())
	}
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	if len(lines) != len(cuts)+1 {
		t.Fatalf("%d lines for %d files:\n%s", len(lines), len(cuts)+1, out.String())
	}
	for i, l := range lines[:len(cuts)] {
		if !strings.HasPrefix(l, "REJECTED "+cuts[i]) || !strings.Contains(l, "truncated") {
			t.Errorf("cut file %d: %s", i, l)
		}
	}
	if !strings.Contains(lines[len(cuts)], "empty file") {
		t.Errorf("empty file: %s", lines[len(cuts)])
	}
}
