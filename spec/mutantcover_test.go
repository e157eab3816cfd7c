package spec

import (
	"bufio"
	"os"
	"regexp"
	"sort"
	"strings"
	"testing"
)

// reChecked is a model's INVARIANTS or PROPERTIES line.
var reChecked = regexp.MustCompile(`(?m)^(?:INVARIANTS?|PROPERT(?:Y|IES))\s+(.*)$`)

// checkedProperties maps each module to the properties its small models
// check (TypeOK, a type check, is not a property).
func checkedProperties(t *testing.T) map[string]map[string]bool {
	out := map[string]map[string]bool{}
	for _, cfg := range models(t) {
		text, err := os.ReadFile(cfg)
		if err != nil {
			t.Fatal(err)
		}
		mod := moduleOf(cfg)
		if out[mod] == nil {
			out[mod] = map[string]bool{}
		}
		for _, m := range reChecked.FindAllStringSubmatch(string(text), -1) {
			for _, name := range strings.Fields(m[1]) {
				if name != "TypeOK" {
					out[mod][name] = true
				}
			}
		}
	}
	return out
}

// TestEveryPropertyHasAMutant: each property a model of spec/ checks is
// violated by at least one mutant of mutants.tsv on that module (a
// property no weakening can break may hold for the wrong reason), except
// those unmutated.tsv names with the reason; an entry there whose property
// has a mutant, or that names no checked property, fails too.
func TestEveryPropertyHasAMutant(t *testing.T) {
	props := checkedProperties(t)
	caught := map[string]bool{}
	for _, m := range readMutants(t) {
		if !props[m.module][m.by] {
			t.Errorf("mutant %d (%s) names %s, which no model of %s checks", m.n, m.name, m.by, m.module)
		}
		caught[m.module+"."+m.by] = true
	}
	waived := map[string]string{}
	f, err := os.Open("unmutated.tsv")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := sc.Text()
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		c := strings.Split(line, "\t")
		if len(c) != 3 || strings.TrimSpace(c[2]) == "" {
			t.Fatalf("unmutated.tsv: %q: want module, property and a reason", line)
		}
		key := c[0] + "." + c[1]
		waived[key] = c[2]
		switch {
		case !props[c[0]][c[1]]:
			t.Errorf("unmutated.tsv names %s, which no model checks", key)
		case caught[key]:
			t.Errorf("unmutated.tsv names %s, which mutants.tsv violates: remove the entry", key)
		}
	}
	var missing []string
	for mod, ps := range props {
		for p := range ps {
			key := mod + "." + p
			if !caught[key] && waived[key] == "" {
				missing = append(missing, key)
			}
		}
	}
	sort.Strings(missing)
	if len(missing) > 0 {
		t.Errorf("properties no mutant of mutants.tsv violates (add one, or say why in unmutated.tsv): %v", missing)
	}
	t.Logf("%d mutants; %d properties waived: %v", len(readMutants(t)), len(waived), waived)
}
