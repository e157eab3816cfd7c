package check

import (
	"context"
	"reflect"
	"testing"
)

// TestCoverageCounts: on a counter 0..3 with an action that only ever
// reaches states another action reached first, coverage credits each new
// state to the action that found it first, counts every successor, and
// counts the states an action was enabled in; the counts do not depend on
// the number of workers.
func TestCoverageCounts(t *testing.T) {
	sys := &funcSystem{
		vars: []string{"x"},
		init: [][]int32{{0}},
		next: func(s []int32, emit func([]int32, string)) {
			if s[0] < 3 {
				emit([]int32{s[0] + 1}, "Inc")
			}
			if s[0] > 0 {
				emit([]int32{s[0] - 1}, "Dec") // back to a state Inc reached first
				emit([]int32{0}, "Dec")
			}
		},
	}
	want := []ActionCoverage{
		{Name: "Inc", Enabled: 3, Generated: 3, Distinct: 3},
		{Name: "Dec", Enabled: 3, Generated: 6, Distinct: 0},
	}
	for _, w := range []int{1, 2, 4} {
		res, err := Run(context.Background(), sys, Options{Workers: w, NoDeadlock: true, Coverage: true})
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(res.Coverage, want) {
			t.Fatalf("workers %d: coverage %+v, want %+v", w, res.Coverage, want)
		}
	}
	res, _ := Run(context.Background(), sys, Options{NoDeadlock: true})
	if res.Coverage != nil {
		t.Fatalf("coverage without Options.Coverage: %+v", res.Coverage)
	}
	un, stale := Uncovered(want, nil)
	if !reflect.DeepEqual(un, []string{"Dec"}) || stale != nil {
		t.Fatalf("Uncovered = %v, %v", un, stale)
	}
	ex := CoverageExcuses([]byte("CONSTANTS N = 1\n\\* @uncovered Dec: the counter only goes up here\n\\* @uncovered Inc:\n\\* @uncovered Gone: removed\n"))
	if len(ex) != 2 || ex["Dec"] != "the counter only goes up here" {
		t.Fatalf("CoverageExcuses = %v (a line without a reason excuses nothing)", ex)
	}
	un, stale = Uncovered(want, ex)
	if un != nil || !reflect.DeepEqual(stale, []string{"Gone"}) {
		t.Fatalf("Uncovered with excuses = %v, %v", un, stale)
	}
}
