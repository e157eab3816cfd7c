//go:build !device

package main

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/verimeter/verimeter/internal/sim/procs"
	"github.com/verimeter/verimeter/protocol/translog"
)

// TestInspect runs a head-end, two meters and a gateway as processes for
// one collection round, stops them, and inspects each role's files: the
// meter boots to its factory software with an empty logbook, the gateway
// holds what it forwarded with nothing pending, the head-end stores what
// the gateway forwarded; inspecting changes none of the files.
func TestInspect(t *testing.T) {
	ps := procs.New(t, "vmi", 2, 1)
	he := ps.StartHeadend()
	for i := range 2 {
		ps.StartMeter(i)
	}
	out, err := ps.Command("gateway", "run", "-config", ps.Path("gw-00.json")).CombinedOutput()
	if err != nil {
		t.Fatalf("gateway run: %v\n%s", err, out)
	}
	m := regexp.MustCompile(`(\d+) items forwarded: (\d+) stored`).FindSubmatch(out)
	if m == nil {
		t.Fatalf("gateway run printed no summary:\n%s", out)
	}
	forwarded, _ := strconv.Atoi(string(m[1]))
	ps.Stop(he)
	ps.StopAll()

	inspect := func(role, config string, v any) {
		t.Helper()
		var o, e bytes.Buffer
		if code := run([]string{"inspect", role, "-config", config, "-json"}, &o, &e); code != 0 {
			t.Fatalf("inspect %s: exit %d: %s", role, code, e.String())
		}
		if err := json.Unmarshal(o.Bytes(), v); err != nil {
			t.Fatalf("inspect %s: %v\n%s", role, err, o.String())
		}
	}

	var mf meterFile
	if err := readJSON(ps.Path("meter-000.json"), &mf); err != nil {
		t.Fatal(err)
	}
	before := dirDigest(t, mf.Dir)
	var mi meterInspection
	inspect("meter", ps.Path("meter-000.json"), &mi)
	factory := factorySlot(mf.Model)
	id := sha256.Sum256(factory.LR)
	if mi.Version != factory.Version || mi.SoftwareID != hex.EncodeToString(id[:8]) || len(mi.Logbook) != 0 {
		t.Errorf("meter: v%d %s, %d logbook entries; want the factory's v%d %x and none", mi.Version, mi.SoftwareID, len(mi.Logbook), factory.Version, id[:8])
	}
	if after := dirDigest(t, mf.Dir); after != before {
		t.Errorf("inspect meter changed the meter's files")
	}

	var gi gatewayInspection
	inspect("gateway", ps.Path("gw-00.json"), &gi)
	if forwarded == 0 || gi.Queued != forwarded || gi.Pending != 0 || len(gi.Next) != 0 {
		t.Errorf("gateway: %d queued, %d pending, %d listed; it forwarded %d and the head-end acknowledged all", gi.Queued, gi.Pending, len(gi.Next), forwarded)
	}

	var hi headendInspection
	inspect("headend", ps.Path("headend.json"), &hi)
	if hi.Items != forwarded || hi.ByKind["block"]+hi.ByKind["reading"]+hi.ByKind["event"] != hi.Items || hi.Intervals == 0 {
		t.Errorf("head-end: %d items (%v), %d intervals; the gateway forwarded %d", hi.Items, hi.ByKind, hi.Intervals, forwarded)
	}

	var o, e bytes.Buffer
	if code := run([]string{"inspect", "meter", "-config", filepath.Join(t.TempDir(), "none.json")}, &o, &e); code != 1 {
		t.Errorf("a missing configuration: exit %d, want 1", code)
	}
	text := bytes.Buffer{}
	if code := run([]string{"inspect", "gateway", "-config", ps.Path("gw-00.json")}, &text, &e); code != 0 || !strings.Contains(text.String(), fmt.Sprintf("queue: %d items, 0 not yet acknowledged", forwarded)) {
		t.Errorf("inspect gateway (text): exit %d\n%s", code, text.String())
	}
}

// dirDigest is a digest of the names and contents of the files of dir.
func dirDigest(t *testing.T, dir string) string {
	t.Helper()
	h := sha256.New()
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range ents {
		if e.IsDir() {
			continue
		}
		b, err := os.ReadFile(filepath.Join(dir, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		fmt.Fprintf(h, "%s %d\n", e.Name(), len(b))
		h.Write(b)
	}
	return hex.EncodeToString(h.Sum(nil))
}

// TestCheckHeads: heads of one append-only log are consistent; a head
// whose root is not the log's at its size is flagged.
func TestCheckHeads(t *testing.T) {
	tree := translog.NewTree(nil)
	var heads []*translog.SignedTreeHead
	for i := range 7 {
		tree.Append([]byte{byte(i)})
		if i%3 == 0 {
			root, err := tree.Root(tree.Size())
			if err != nil {
				t.Fatal(err)
			}
			heads = append(heads, &translog.SignedTreeHead{TreeHead: translog.TreeHead{Size: tree.Size(), Root: root}})
		}
	}
	for _, h := range checkHeads(heads, tree.ConsistencyProof) {
		if !h.Consistent {
			t.Fatalf("head of size %d of an append-only log flagged", h.Size)
		}
	}
	heads[1].Root[0] ^= 1
	got := checkHeads(heads, tree.ConsistencyProof)
	if got[0].Consistent != true || got[1].Consistent || got[2].Consistent {
		t.Fatalf("a rewritten head not flagged (it, and the next one that no longer extends it): %+v", got)
	}
}
