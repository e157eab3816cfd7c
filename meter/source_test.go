package meter

import (
	"errors"
	"testing"
)

// testSource is a fixed consumption profile: a meter's tests need values
// that vary over the day, not a household (that is internal/sim's).
type testSource struct{}

func (testSource) Interval(i int) uint32 { return uint32(60 + 11*(i%17)) }

// TestNewRefusesNoSource: a meter without a measurement source is refused
// at construction with a typed error, not at its first quarter hour.
func TestNewRefusesNoSource(t *testing.T) {
	cfg := newKit(t, t.TempDir()).cfg
	cfg.Source = nil
	if _, err := New(cfg); !errors.Is(err, ErrNoSource) {
		t.Fatalf("New without a source: %v, want ErrNoSource", err)
	}
}

// TestMeasureReadsSource: each quarter hour's value is the source's.
func TestMeasureReadsSource(t *testing.T) {
	cfg := newKit(t, t.TempDir()).cfg
	m, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	for i := range 4 {
		wh, err := m.Measure(20000, i)
		if err != nil {
			t.Fatal(err)
		}
		if want := (testSource{}).Interval(i); wh != want {
			t.Fatalf("quarter hour %d: %d Wh, source says %d", i, wh, want)
		}
	}
}
