package meter

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/verimeter/verimeter/protocol"
)

// TestInstallSurvivesPowerLossAtEveryByte installs three images (one passes
// its self-test, one fails it, one passes and raises the security floor),
// then boots the legally relevant core from every prefix of its journal:
// the state power loss at that byte would leave. After every boot the
// install in progress is settled (complete or rolled back, never on trial),
// the logbook chains each attempt from the software that was active, the
// active software is the last one the logbook says was installed, and the
// floor is that of the installed versions. A second boot changes nothing.
func TestInstallSurvivesPowerLossAtEveryByte(t *testing.T) {
	k := newKit(t, "")
	dir := t.TempDir()
	path := filepath.Join(dir, "meter.log")
	st, err := OpenStore(path)
	if err != nil {
		t.Fatal(err)
	}
	pol := protocol.ManifestPolicy{Model: k.cfg.Model, Manufacturers: k.cfg.Manufacturers, Authorities: k.cfg.Authorities}
	c, err := NewCore(st, pol, k.cfg.Factory, 64)
	if err != nil {
		t.Fatal(err)
	}
	install := func(version, sv uint32, failSelfTest bool) {
		lr := []byte(strings.Repeat("lr v", int(version)))
		other := []byte("comm")
		m := protocol.Manifest{Model: "VM-E3", Version: version, SecurityVersion: sv, LR: protocol.NewComponent(lr), Other: protocol.NewComponent(other), Issued: 1}
		signed, err := protocol.SignManifest(m, rand.Reader, k.man, k.auth)
		if err != nil {
			t.Fatal(err)
		}
		c.SelfTest = nil
		if failSelfTest {
			c.SelfTest = func([]byte) error { return errors.New("calibration table checksum") }
		}
		err = c.Install(signed, append(lr, other...), "test", int64(version))
		if failSelfTest != errors.Is(err, ErrSelfTest) || !failSelfTest && err != nil {
			t.Fatalf("install v%d: %v", version, err)
		}
	}
	install(5, 2, false)
	install(6, 3, true)
	install(7, 4, false)
	if c.Version() != 7 || c.Floor() != 4 {
		t.Fatalf("after the installs: v%d floor %d", c.Version(), c.Floor())
	}
	st.Close()
	journal, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	factoryID := sha256.Sum256(k.cfg.Factory.LR)
	secVersion := map[uint32]uint32{4: 2, 5: 2, 7: 4}
	boot := func(p string) (*Core, *Store) {
		st, err := OpenStore(p)
		if err != nil {
			t.Fatal(err)
		}
		c, err := NewCore(st, pol, k.cfg.Factory, 64)
		if err != nil {
			t.Fatal(err)
		}
		return c, st
	}
	settledRollbacks, versions := 0, map[uint32]int{}
	for n := 0; n <= len(journal); n++ {
		p := filepath.Join(dir, "prefix.log")
		if err := os.WriteFile(p, journal[:n], 0o600); err != nil {
			t.Fatal(err)
		}
		c, st := boot(p)
		if c.fw.Trial != nil {
			t.Fatalf("power lost at byte %d: still on trial after boot", n)
		}
		version, id, floor := uint32(4), hex.EncodeToString(factoryID[:8]), uint32(2)
		lb := c.Logbook()
		for i, e := range lb {
			if e.Seq != i+1 || e.OldVersion != version || e.OldID != id {
				t.Fatalf("power lost at byte %d: logbook entry %+v does not follow v%d %s", n, e, version, id)
			}
			switch e.Event {
			case "installed":
				version, id, floor = e.NewVersion, e.NewID, max(floor, secVersion[e.NewVersion])
			case "rolled back":
				if strings.Contains(e.Reason, "at boot") {
					settledRollbacks++
				}
			default:
				t.Fatalf("power lost at byte %d: unexpected entry %+v", n, e)
			}
		}
		if c.Version() != version || c.SoftwareID() != id || c.Floor() != floor {
			t.Fatalf("power lost at byte %d: v%d %s floor %d active; the logbook says v%d %s floor %d", n, c.Version(), c.SoftwareID(), c.Floor(), version, id, floor)
		}
		versions[version]++
		st.Close()
		c2, st2 := boot(p)
		if c2.Version() != version || len(c2.Logbook()) != len(lb) || c2.Floor() != floor {
			t.Fatalf("power lost at byte %d: a second boot changed the state", n)
		}
		st2.Close()
	}
	if settledRollbacks == 0 || versions[5] == 0 || versions[7] == 0 {
		t.Fatalf("the prefixes exercised too little: %d rollbacks at boot, versions %v", settledRollbacks, versions)
	}
	t.Logf("%d power-loss points: active versions %v, %d installs rolled back at boot", len(journal)+1, versions, settledRollbacks)
}
