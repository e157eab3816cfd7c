package meter

import (
	"bytes"
	"errors"
	"testing"

	"github.com/verimeter/verimeter/protocol"
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

// TestConfigSelfTestRollsBack: the self-test a meter is built with judges
// each activated image; a failing one rolls the install back to v4 with
// its logbook cause, a passing one keeps v5.
func TestConfigSelfTestRollsBack(t *testing.T) {
	lr, other := bytes.Repeat([]byte("lr v5 "), 50), bytes.Repeat([]byte("comm v5 "), 25)
	image := append(bytes.Clone(lr), other...)
	man := protocol.Manifest{Model: "VM-E3", Version: 5, SecurityVersion: 3, LR: protocol.NewComponent(lr), Other: protocol.NewComponent(other), Issued: 1}
	for _, fail := range []bool{true, false} {
		k := newKit(t, t.TempDir())
		var tested int
		k.cfg.SelfTest = func(got []byte) error {
			tested++
			if !bytes.Equal(got, lr) {
				return errors.New("self-test saw another image")
			}
			if fail {
				return errors.New("calibration table checksum")
			}
			return nil
		}
		m, err := New(k.cfg)
		if err != nil {
			t.Fatal(err)
		}
		k.agree(t, m)
		k.install(t, m, 1, man, image, k.man, k.auth)
		lb := m.core.Logbook()
		want, cause := uint32(5), cause("")
		if fail {
			want, cause = 4, causeSelfTest
		}
		if tested != 1 || m.core.Version() != want || len(lb) != 1 || lb[0].Cause != cause {
			t.Errorf("fail=%t: self-test ran %d times, v%d, logbook %+v", fail, tested, m.core.Version(), lb)
		}
		m.Close()
	}
}
