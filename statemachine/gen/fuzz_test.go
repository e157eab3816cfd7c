package gen

import (
	"bytes"
	"go/format"
	"os"
	"path/filepath"
	"testing"
)

// FuzzGen feeds the generator arbitrary modules, seeded with the spec's:
// it must never panic, and whatever it generates must be gofmt-clean Go
// with the header (an error is fine: a positioned refusal).
func FuzzGen(f *testing.F) {
	for _, name := range []string{"Channel", "Collection", "Commands", "Firmware", "Market"} {
		src, err := os.ReadFile(filepath.Join("../../spec", name+".tla"))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(bytes.Replace(src, []byte("MODULE "+name), []byte("MODULE F"), 1))
	}
	dir := filepath.Join(f.TempDir(), "spec")
	if err := os.Mkdir(dir, 0o755); err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, src []byte) {
		if err := os.WriteFile(filepath.Join(dir, "F.tla"), src, 0o644); err != nil {
			t.Fatal(err)
		}
		for _, role := range []string{"meter", "gateway", "headend"} {
			out, _, err := GenerateTarget(dir, Target{Role: role, Package: "p", Modules: []string{"F"}}, nil)
			if err != nil {
				continue
			}
			if !bytes.HasPrefix(out, []byte(Header+"\n")) {
				t.Fatalf("%s: no header", role)
			}
			if f, err := format.Source(out); err != nil || !bytes.Equal(f, out) {
				t.Fatalf("%s: not gofmt-clean: %v", role, err)
			}
		}
	})
}
