//go:build !device

package main

import (
	"os"
	"path/filepath"
	"reflect"
	"testing"
)

// TestUsedModulesFollowsExtends: the chart reads the roles of the spec and
// of the modules it uses beside it, not of the directory's other modules.
func TestUsedModulesFollowsExtends(t *testing.T) {
	dir := t.TempDir()
	write := func(name, src string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(src), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	top := write("Top.tla", "---- MODULE Top ----\nEXTENDS Naturals, Mid\nI == INSTANCE Leaf\n====\n")
	mid := write("Mid.tla", "---- MODULE Mid ----\nEXTENDS Leaf,\n        Sequences\n====\n")
	leaf := write("Leaf.tla", "---- MODULE Leaf ----\n====\n")
	write("Other.tla", "---- MODULE Other ----\n====\n")
	got := usedModules(top)
	if want := []string{top, mid, leaf}; !reflect.DeepEqual(got, want) {
		t.Fatalf("usedModules = %v, want %v", got, want)
	}
}
