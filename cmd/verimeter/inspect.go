//go:build !device

package main

import (
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"github.com/verimeter/verimeter/gateway"
	"github.com/verimeter/verimeter/headend"
	"github.com/verimeter/verimeter/meter"
	"github.com/verimeter/verimeter/protocol"
	"github.com/verimeter/verimeter/protocol/translog"
	"github.com/verimeter/verimeter/wan"
)

func init() {
	register(command{name: "inspect", summary: "show a stopped meter's, gateway's or head-end's durable state (meter|gateway|headend -config FILE)", run: runInspect})
}

// ErrInspect marks a role's files that inspect cannot read as that role's
// state (missing, from a running role, torn, or a store it does not read).
var ErrInspect = errors.New("inspect")

// inspectLogbookCapacity is the logbook capacity the inspected core boots
// with: large enough for any logbook, since inspection installs nothing.
const inspectLogbookCapacity = 1 << 20

// runInspect prints what a role left on disk, for the engineer on call and
// the auditor: a meter's firmware identification and whole logbook, a
// gateway's queue, the head-end's stored data and transparency-log heads
// with the consistency of each to the next checked. It works on a copy of
// the files, so a meter's boot recovery (an install cut by power loss is
// rolled back and logged) happens on the copy and the role's own files
// are never changed.
func runInspect(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("inspect", flag.ContinueOnError)
	fs.SetOutput(stderr)
	cfg := fs.String("config", "", "the role's configuration file (as written by provision)")
	asJSON := fs.Bool("json", false, "print one JSON document instead of text")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: verimeter inspect meter|gateway|headend -config FILE [-json]")
		fs.PrintDefaults()
	}
	if len(args) == 0 || args[0] != "meter" && args[0] != "gateway" && args[0] != "headend" {
		fs.Usage()
		return 2
	}
	role := args[0]
	if err := fs.Parse(args[1:]); err != nil {
		return 2
	}
	if *cfg == "" || fs.NArg() != 0 {
		fs.Usage()
		return 2
	}
	var v any
	var err error
	switch role {
	case "meter":
		v, err = inspectMeter(*cfg)
	case "gateway":
		v, err = inspectGateway(*cfg)
	default:
		v, err = inspectHeadend(*cfg)
	}
	if err != nil {
		fmt.Fprintf(stderr, "inspect %s: %v\n", role, err)
		return 1
	}
	if *asJSON {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		if err := enc.Encode(v); err != nil {
			fmt.Fprintf(stderr, "inspect %s: %v\n", role, err)
			return 1
		}
		return 0
	}
	fmt.Fprint(stdout, v)
	return 0
}

// copyFiles copies the named files of dir that exist into a new temporary
// directory and returns it; the caller removes it.
func copyFiles(dir string, names ...string) (string, error) {
	tmp, err := os.MkdirTemp("", "verimeter-inspect-")
	if err != nil {
		return "", err
	}
	for _, n := range names {
		b, err := os.ReadFile(filepath.Join(dir, n))
		if errors.Is(err, os.ErrNotExist) {
			continue
		}
		if err == nil {
			err = os.WriteFile(filepath.Join(tmp, n), b, 0o600)
		}
		if err != nil {
			os.RemoveAll(tmp)
			return "", err
		}
	}
	return tmp, nil
}

// meterInspection is a meter's firmware identification and logbook as its
// store holds them.
type meterInspection struct {
	Dir        string           `json:"data_dir"`
	Model      string           `json:"model"`
	Version    uint32           `json:"version"`
	SoftwareID string           `json:"software_id"`
	Logbook    []meter.LogEntry `json:"logbook"`
}

func (m *meterInspection) String() string {
	s := fmt.Sprintf("meter data in %s (model %s)\nsoftware v%d  ID %s\nlogbook: %d entries\n", m.Dir, m.Model, m.Version, m.SoftwareID, len(m.Logbook))
	for _, e := range m.Logbook {
		s += fmt.Sprintf("  %d %s %s by %s: v%d %s -> v%d %s", e.Seq, time.Unix(e.Time, 0).UTC().Format(time.RFC3339), e.Event, e.Party, e.OldVersion, e.OldID, e.NewVersion, e.NewID)
		if e.Cause != "" {
			s += fmt.Sprintf(" [%s]", e.Cause)
		}
		if e.Reason != "" {
			s += " (" + e.Reason + ")"
		}
		s += "\n"
	}
	return s
}

// inspectMeter boots the legally relevant core of a copy of the meter's
// files as the meter itself would at power-up.
func inspectMeter(path string) (*meterInspection, error) {
	var f meterFile
	if err := readJSON(path, &f); err != nil {
		return nil, err
	}
	if _, err := os.Stat(filepath.Join(f.Dir, "meter.log")); err != nil {
		return nil, fmt.Errorf("%w: no meter store in %s: %w", ErrInspect, f.Dir, err)
	}
	tmp, err := copyFiles(f.Dir, "meter.log", "slot-a.img", "slot-b.img")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(tmp)
	st, err := meter.OpenStore(filepath.Join(tmp, "meter.log"))
	if err != nil {
		return nil, fmt.Errorf("%w: meter store: %w", ErrInspect, err)
	}
	defer st.Close()
	c, err := bootCore(st, f.Model)
	if err != nil {
		return nil, err
	}
	return &meterInspection{Dir: f.Dir, Model: f.Model, Version: c.Version(), SoftwareID: c.SoftwareID(), Logbook: c.Logbook()}, nil
}

// bootCore boots a meter's legally relevant core of the given model from
// its store, with the factory image `meter run` installs on first start.
func bootCore(st *meter.Store, model string) (*meter.Core, error) {
	c, err := meter.NewCore(st, protocol.ManifestPolicy{Model: model}, factorySlot(model), inspectLogbookCapacity)
	if err != nil {
		return nil, fmt.Errorf("%w: the meter's core does not boot: %w", ErrInspect, err)
	}
	return c, nil
}

// inspectedItem is one item of a gateway's queue.
type inspectedItem struct {
	Kind  wan.Kind `json:"kind"`
	Bytes int      `json:"bytes"`
}

// gatewayInspection is what a gateway's durable queue holds.
type gatewayInspection struct {
	Dir     string          `json:"data_dir"`
	Queued  int             `json:"queued"`  // items ever queued and still in the journal
	Pending int             `json:"pending"` // not yet acknowledged by the head-end
	Next    []inspectedItem `json:"next"`    // the first pending items, in upload order
}

func (g *gatewayInspection) String() string {
	s := fmt.Sprintf("gateway data in %s\nqueue: %d items, %d not yet acknowledged by the head-end\n", g.Dir, g.Queued, g.Pending)
	for i, it := range g.Next {
		s += fmt.Sprintf("  next %d: kind %d, %d bytes\n", i+1, it.Kind, it.Bytes)
	}
	return s
}

// inspectNext is how many pending items inspect gateway lists.
const inspectNext = 10

func inspectGateway(path string) (*gatewayInspection, error) {
	var f gatewayFile
	if err := readJSON(path, &f); err != nil {
		return nil, err
	}
	if _, err := os.Stat(filepath.Join(f.Dir, "queue")); err != nil {
		return nil, fmt.Errorf("%w: no gateway queue in %s: %w", ErrInspect, f.Dir, err)
	}
	tmp, err := copyFiles(f.Dir, "queue")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(tmp)
	q, err := gateway.OpenQueue(filepath.Join(tmp, "queue"))
	if err != nil {
		return nil, fmt.Errorf("%w: gateway queue: %w", ErrInspect, err)
	}
	defer q.Close()
	out := &gatewayInspection{Dir: f.Dir, Queued: len(q.All()), Pending: q.Len(), Next: []inspectedItem{}}
	for _, it := range q.Pending(inspectNext) {
		out.Next = append(out.Next, inspectedItem{Kind: it.Kind, Bytes: len(it.Raw)})
	}
	return out, nil
}

// inspectedHead is one signed tree head of the transparency log and
// whether the log grew from the previous head by appending only.
type inspectedHead struct {
	Size       uint64    `json:"size"`
	Time       time.Time `json:"time"`
	Root       string    `json:"root"`
	Consistent bool      `json:"consistent_with_previous"`
}

// headendInspection is what the head-end's store holds.
type headendInspection struct {
	DB        string          `json:"db"`
	Items     int             `json:"items"`
	Intervals int             `json:"intervals"`
	ByKind    map[string]int  `json:"by_kind"`
	Heads     []inspectedHead `json:"tree_heads"`
}

func (h *headendInspection) String() string {
	s := fmt.Sprintf("head-end store %s\n%d items (%d readings, %d blocks, %d events), %d interval values\ntransparency log: %d signed tree heads\n",
		h.DB, h.Items, h.ByKind["reading"], h.ByKind["block"], h.ByKind["event"], h.Intervals, len(h.Heads))
	for _, th := range h.Heads {
		c := "append-only from the previous head"
		if !th.Consistent {
			c = "NOT CONSISTENT with the previous head"
		}
		s += fmt.Sprintf("  size %d at %s root %s: %s\n", th.Size, th.Time.UTC().Format(time.RFC3339), th.Root, c)
	}
	return s
}

// inspectHeadend reads a copy of the head-end's SQLite store and checks
// that each signed tree head extends the previous one (the log's
// consistency proof between them verifies).
func inspectHeadend(path string) (*headendInspection, error) {
	var f headendFile
	if err := readJSON(path, &f); err != nil {
		return nil, err
	}
	if f.Postgres != "" {
		return nil, fmt.Errorf("%w: the store is on PostgreSQL; inspect reads the SQLite store of a stopped head-end", ErrInspect)
	}
	if _, err := os.Stat(f.DB); err != nil {
		return nil, fmt.Errorf("%w: no head-end store: %w", ErrInspect, err)
	}
	base := filepath.Base(f.DB)
	tmp, err := copyFiles(filepath.Dir(f.DB), base, base+"-wal", base+"-shm")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(tmp)
	st, err := headend.OpenStore(filepath.Join(tmp, base))
	if err != nil {
		return nil, fmt.Errorf("%w: head-end store: %w", ErrInspect, err)
	}
	defer st.Close()
	out := &headendInspection{DB: f.DB, ByKind: map[string]int{}, Heads: []inspectedHead{}}
	if out.Items, out.Intervals, err = st.Counts(); err != nil {
		return nil, err
	}
	names := map[wan.Kind]string{wan.KindReading: "reading", wan.KindBlock: "block", wan.KindEvent: "event"}
	if err := st.Each(func(kind wan.Kind, _ []byte) { out.ByKind[names[kind]]++ }); err != nil {
		return nil, err
	}
	heads, err := st.TreeHeads()
	if err != nil {
		return nil, err
	}
	out.Heads = checkHeads(heads, st.ConsistencyProof)
	return out, nil
}

// checkHeads lists the signed tree heads, each marked consistent when the
// log's consistency proof from the previous head to it (from proof)
// verifies: the log only appended between them.
func checkHeads(heads []*translog.SignedTreeHead, proof func(size1, size2 uint64) ([]translog.Hash, error)) []inspectedHead {
	out := []inspectedHead{}
	for i, th := range heads {
		ih := inspectedHead{Size: th.Size, Time: th.Time, Root: fmt.Sprintf("%x", th.Root), Consistent: true}
		if i > 0 {
			prev := heads[i-1]
			p, err := proof(prev.Size, th.Size)
			ih.Consistent = err == nil && translog.VerifyConsistency(prev.Size, th.Size, prev.Root, th.Root, p) == nil
		}
		out = append(out, ih)
	}
	return out
}
