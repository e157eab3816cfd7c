//go:build !device

package main

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"flag"
	"fmt"
	"io"
	mrand "math/rand/v2"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/verimeter/verimeter/gateway"
	"github.com/verimeter/verimeter/headend"
	"github.com/verimeter/verimeter/meter"
	"github.com/verimeter/verimeter/plc"
	"github.com/verimeter/verimeter/protocol"
	"github.com/verimeter/verimeter/statemachine"
)

func init() {
	register(command{name: "demo", summary: "the whole system in one process: meters, gateways on simulated PLC, head-end, market, attacker; prints a report", run: runDemo})
}

// maxMetersPerGateway is what one PLC segment serves in the demo: the HDLC
// lower addresses 0x10..0xFD of one gateway (and within the 25 % airtime
// budget of plc/README.md for S-FSK).
const maxMetersPerGateway = 238

// persistentMeters is how many meters of a demo keep their state in files.
const persistentMeters = 1000

// demoConfig sizes a demo run.
type demoConfig struct {
	Meters, Gateways, Days int
	Seed                   uint64
	DB                     string // SQLite path; "" for a temporary one
	Trace                  io.Writer
	Progress               io.Writer
	// BreakSignature alters one stored signature after ingest (the test's
	// broken variant): the verification check must turn red.
	BreakSignature bool
	// Export, when set, is a directory to write a sample of signed data for
	// `verimeter verify`: root.pem, certs.pem, readings and interval proofs.
	Export string
	// SpecTrace, when set, is a directory where the head-end, gateways and
	// meters log the steps of their generated machines (one group of logs
	// per meter), which the demo then validates against the spec.
	SpecTrace string
}

func runDemo(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("demo", flag.ContinueOnError)
	fs.SetOutput(stderr)
	cfg := demoConfig{Progress: stderr}
	fs.IntVar(&cfg.Meters, "meters", 200, "number of meters")
	fs.IntVar(&cfg.Gateways, "gateways", 4, "number of gateways (PLC segments)")
	fs.IntVar(&cfg.Days, "days", 1, "days of 15-minute readings")
	fs.Uint64Var(&cfg.Seed, "seed", 1, "seed of consumption, medium and attacker")
	fs.StringVar(&cfg.DB, "db", "", "head-end database: a SQLite file, or postgres://... for an empty PostgreSQL database (default: a temporary SQLite file)")
	trace := fs.String("trace", "", "write an NDJSON trace of every APDU on the medium to this file")
	fs.StringVar(&cfg.SpecTrace, "spec-trace", "", "keep the logs of the roles' steps (which the demo validates against the spec) in this directory, for verimeter trace-check")
	fs.StringVar(&cfg.Export, "export", "", "write a sample of signed readings and interval proofs, with the root and certificates, to this directory (for verimeter verify)")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if cfg.Meters < cfg.Gateways || cfg.Gateways < 1 || cfg.Days < 1 || fs.NArg() != 0 {
		fmt.Fprintln(stderr, "usage: verimeter demo [-meters N] [-gateways N] [-days N] [-seed N] [-db FILE] [-trace FILE] [-spec-trace DIR] [-export DIR]")
		return 2
	}
	if need := (cfg.Meters + maxMetersPerGateway - 1) / maxMetersPerGateway; cfg.Gateways < need {
		fmt.Fprintf(stderr, "verimeter demo: %d meters need %d gateways (a PLC segment serves at most %d); using %d\n", cfg.Meters, need, maxMetersPerGateway, need)
		cfg.Gateways = need
	}
	if *trace != "" {
		f, err := os.Create(*trace)
		if err != nil {
			fmt.Fprintf(stderr, "verimeter demo: %v\n", err)
			return 1
		}
		defer f.Close()
		cfg.Trace = f
	}
	rep, err := runScenario(cfg)
	if err != nil {
		fmt.Fprintf(stderr, "\nverimeter demo: %v\n", err)
		return 1
	}
	rep.write(stdout)
	if !rep.ok() {
		fmt.Fprintln(stderr, "verimeter demo: some checks failed")
		return 1
	}
	return 0
}

// check is one line of the report.
type check struct {
	name, value string
	ok          bool
}

type demoReport struct {
	checks  []check
	attacks []attackTally
	info    []string
}

type attackTally struct {
	class         string
	tried, reject int
}

func (r *demoReport) add(name string, ok bool, format string, a ...any) {
	r.checks = append(r.checks, check{name: name, value: fmt.Sprintf(format, a...), ok: ok})
}

func (r *demoReport) ok() bool {
	for _, c := range r.checks {
		if !c.ok {
			return false
		}
	}
	for _, a := range r.attacks {
		if a.tried == 0 || a.reject != a.tried {
			return false
		}
	}
	return len(r.checks) > 0
}

func (r *demoReport) write(w io.Writer) {
	fmt.Fprintln(w, "\nverimeter demo report")
	fmt.Fprintln(w)
	fmt.Fprintln(w, "| check | result | |")
	fmt.Fprintln(w, "|---|---|---|")
	for _, c := range r.checks {
		mark := "ok"
		if !c.ok {
			mark = "FAIL"
		}
		fmt.Fprintf(w, "| %s | %s | %s |\n", c.name, c.value, mark)
	}
	fmt.Fprintln(w)
	fmt.Fprintln(w, "| attack on the PLC medium | tried | rejected | |")
	fmt.Fprintln(w, "|---|---:|---:|---|")
	for _, a := range r.attacks {
		mark := "ok"
		if a.tried == 0 || a.reject != a.tried {
			mark = "FAIL"
		}
		fmt.Fprintf(w, "| %s | %d | %d | %s |\n", a.class, a.tried, a.reject, mark)
	}
	if len(r.info) > 0 {
		fmt.Fprintln(w)
		for _, l := range r.info {
			fmt.Fprintln(w, l)
		}
	}
}

// world is everything the scenario builds.
type world struct {
	cfg     demoConfig
	rng     *mrand.Rand
	t0      time.Time
	now     time.Time
	dir     string
	root    *protocol.CA
	subs    map[string]*protocol.CA
	he      *headend.HeadEnd
	store   *headend.Store
	heKey   *ecdsa.PrivateKey
	op      *ecdsa.PrivateKey // trust-list signer
	alice   headend.Approver
	bob     headend.Approver
	parts   map[string]*x509.Certificate
	partKey map[string]*ecdsa.PrivateKey
	man     protocol.ManifestSigner
	auth    protocol.ManifestSigner
	gws     []*gwNode
	meters  []*meterNode
	verify  *protocol.Verifier // an outsider's verifier: PKI roots and certificates only
	wanDown map[string]bool
	clock   statemachine.LamportClock
	rec     *statemachine.Recorder
	traces  *statemachine.TraceDir // -spec-trace
	// samples for -export
	readings [][]byte
	proofs   []protocol.IntervalProof
}

type gwNode struct {
	name string
	cfg  gateway.Config
	g    *gateway.Gateway
	seg  *gateway.Segment
	dir  string
}

type meterNode struct {
	cfg        meter.Config
	m          *meter.Meter
	gw         *gwNode
	addr       uint8
	channelPub *ecdsa.PublicKey
	cert       *x509.Certificate
	switched   bool // changes supplier at noon of day 0
	supplier   string
}

// uplink is the in-process WAN between a gateway and the head-end; it can
// be down.
type uplink struct{ w *world }

func (u uplink) Ingest(ctx context.Context, gw string, items []headend.Item) (headend.IngestResult, error) {
	if u.w.wanDown[gw] {
		return headend.IngestResult{}, gateway.ErrWANDown
	}
	return u.w.he.Ingest(ctx, gw, items)
}

func key() *ecdsa.PrivateKey {
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		panic(err)
	}
	return k
}

func spkiOf(k *ecdsa.PrivateKey) []byte {
	b, err := x509.MarshalPKIXPublicKey(&k.PublicKey)
	if err != nil {
		panic(err)
	}
	return b
}

func (w *world) progress(done, total int, what string) {
	if w.cfg.Progress == nil {
		return
	}
	const width = 30
	n := done * width / max(total, 1)
	fmt.Fprintf(w.cfg.Progress, "\r[%s%s] %3d%% %-40s", strings.Repeat("#", n), strings.Repeat(".", width-n), done*100/max(total, 1), what)
}

func runScenario(cfg demoConfig) (*demoReport, error) {
	start := time.Now()
	dir, err := os.MkdirTemp("", "verimeter-demo-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	w := &world{cfg: cfg, rng: mrand.New(mrand.NewPCG(cfg.Seed, 0xde70)), dir: dir, subs: map[string]*protocol.CA{}, parts: map[string]*x509.Certificate{}, partKey: map[string]*ecdsa.PrivateKey{}, wanDown: map[string]bool{}}
	// The first day starts at midnight UTC; time is virtual.
	w.t0 = time.Date(2026, 11, 24, 0, 0, 0, 0, time.UTC)
	w.now = w.t0
	if cfg.Trace != nil {
		w.rec = statemachine.NewRecorder(cfg.Trace)
	}
	rep := &demoReport{}
	if err := w.setupPKI(); err != nil {
		return nil, fmt.Errorf("PKI: %w", err)
	}
	// The roles always log the steps of their generated machines, and the
	// demo validates them against the spec; -spec-trace keeps the logs.
	keep := cfg.SpecTrace != ""
	if !keep {
		cfg.SpecTrace = filepath.Join(dir, "spec-trace")
		w.cfg.SpecTrace = cfg.SpecTrace
	}
	if w.traces, err = statemachine.NewTraceDir(cfg.SpecTrace); err != nil {
		return nil, err
	}
	if err := w.setupRoles(); err != nil {
		return nil, fmt.Errorf("roles: %w", err)
	}
	defer w.close()
	if err := w.runDays(rep); err != nil {
		return nil, err
	}
	if err := w.firmware(rep); err != nil {
		return nil, fmt.Errorf("firmware: %w", err)
	}
	w.attacks(rep)
	if err := w.operatorChange(rep); err != nil {
		return nil, fmt.Errorf("operator change: %w", err)
	}
	if err := w.market(rep); err != nil {
		return nil, fmt.Errorf("market: %w", err)
	}
	if err := w.commandsPolicy(rep); err != nil {
		return nil, fmt.Errorf("commands: %w", err)
	}
	{
		if err := w.traces.Close(); err != nil {
			return nil, fmt.Errorf("spec traces: %w", err)
		}
		res, err := validateSpecTraces(cfg.SpecTrace)
		if err != nil {
			rep.add("roles' traces explained by the spec", false, "%v", err)
		} else {
			where := "-spec-trace DIR keeps them"
			if keep {
				where = "in " + cfg.SpecTrace + "; verimeter trace-check -max-hidden 0 -spec spec/Commands.tla -config spec/trace/Commands.cfg " + filepath.Join(cfg.SpecTrace, "commands", "<meter>", "*.ndjson")
			}
			rep.add("roles' traces explained by the spec", res.Steps > 0,
				"%d steps in %d logs for %d meters explained by spec/Commands.tla (%s)", res.Steps, res.Logs, res.Groups, where)
		}
	}
	if cfg.Export != "" {
		if err := w.export(cfg.Export); err != nil {
			return nil, fmt.Errorf("export: %w", err)
		}
		rep.info = append(rep.info, fmt.Sprintf("exported %d readings and %d interval proofs to %s: verimeter verify -roots %s -certs %s %s",
			len(w.readings), len(w.proofs), cfg.Export, filepath.Join(cfg.Export, "root.pem"), filepath.Join(cfg.Export, "certs.pem"), filepath.Join(cfg.Export, "*.cbor")))
	}
	if cfg.Progress != nil {
		fmt.Fprintf(cfg.Progress, "\r%-80s\r", "")
	}
	rep.info = append(rep.info, fmt.Sprintf("%d meters (%d with state on disk), %d gateways, %d day(s), seed %d, %.1f s wall time", cfg.Meters, min(cfg.Meters, persistentMeters), cfg.Gateways, cfg.Days, cfg.Seed, time.Since(start).Seconds()))
	return rep, nil
}

func (w *world) close() {
	for _, m := range w.meters {
		m.m.Close()
	}
	for _, g := range w.gws {
		g.g.Close()
	}
	if w.store != nil {
		w.store.Close()
	}
}

func (w *world) setupPKI() error {
	var err error
	if w.root, err = protocol.NewRootCA("verimeter demo root", key(), w.t0.Add(-24*time.Hour), 20*365*24*time.Hour, rand.Reader); err != nil {
		return err
	}
	for name, roles := range protocol.SubCAs {
		if w.subs[name], err = w.root.NewSubCA(name+" CA", roles, key(), w.t0.Add(-24*time.Hour), 10*365*24*time.Hour); err != nil {
			return err
		}
	}
	w.heKey, w.op = key(), key()
	issue := func(ca, cn string, role protocol.Role, k *ecdsa.PrivateKey) (*x509.Certificate, error) {
		return w.subs[ca].Issue(protocol.Identity{CommonName: cn}, []protocol.Role{role}, &k.PublicKey, w.t0.Add(-time.Hour), 2*365*24*time.Hour)
	}
	if _, err := issue("head-end-operator", "head-end", protocol.RoleHeadEnd, w.heKey); err != nil {
		return err
	}
	for _, name := range []string{"operator alice", "operator bob"} {
		c, err := issue("head-end-operator", name, protocol.RoleHeadEnd, key())
		if err != nil {
			return err
		}
		if name == "operator alice" {
			w.alice = headend.Approver{Name: name, Cert: c}
		} else {
			w.bob = headend.Approver{Name: name, Cert: c}
		}
	}
	for _, p := range []struct {
		name string
		role protocol.Role
	}{{"supplier Nordstrom", protocol.RoleSupplier}, {"supplier Suedwind", protocol.RoleSupplier}, {"supplier Lapsed", protocol.RoleSupplier}, {"grid operator Netz", protocol.RoleGridOperator}} {
		k := key()
		c, err := issue("market-participant", p.name, p.role, k)
		if err != nil {
			return err
		}
		w.parts[p.name], w.partKey[p.name] = c, k
	}
	w.man = protocol.ManifestSigner{KeyID: []byte("manufacturer VM"), Key: key()}
	w.auth = protocol.ManifestSigner{KeyID: []byte("metrology authority"), Key: key()}
	return nil
}

func (w *world) setupRoles() error {
	var err error
	dbPath := w.cfg.DB
	if dbPath == "" {
		dbPath = filepath.Join(w.dir, "headend.db")
	}
	if strings.HasPrefix(dbPath, "postgres://") || strings.HasPrefix(dbPath, "postgresql://") {
		w.store, err = headend.OpenPostgres(dbPath)
	} else {
		w.store, err = headend.OpenStore(dbPath)
	}
	if err != nil {
		return err
	}
	// "Supplier Lapsed" loses its accreditation at noon of the first day.
	crl, err := w.subs["market-participant"].NewCRL([]protocol.Revocation{{Serial: w.parts["supplier Lapsed"].SerialNumber, RevokedAt: w.t0.Add(12 * time.Hour), InvalidAt: w.t0.Add(12 * time.Hour), ReasonCode: 9}}, 1, w.t0.Add(12*time.Hour), w.t0.Add(30*24*time.Hour))
	if err != nil {
		return err
	}
	var subCerts []*x509.Certificate
	names := make([]string, 0, len(w.subs))
	for n := range w.subs {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		subCerts = append(subCerts, w.subs[n].Cert)
	}
	val, err := protocol.NewValidator([]*x509.Certificate{w.root.Cert}, subCerts, []*x509.RevocationList{crl})
	if err != nil {
		return err
	}
	// Gateways.
	for i := range w.cfg.Gateways {
		name := fmt.Sprintf("gw-%02d", i)
		gdir := filepath.Join(w.dir, name)
		if err := os.MkdirAll(gdir, 0o700); err != nil {
			return err
		}
		seg := gateway.NewSegment(plc.SFSK, 2, 0.02, w.cfg.Seed+uint64(i), w.t0)
		n := &gwNode{name: name, seg: seg, dir: gdir}
		n.cfg = gateway.Config{Name: name, Title: protocol.SystemTitle{'V', 'G', 'W', 0, 0, 0, byte(i >> 8), byte(i)}, ChannelKey: key(), Dir: gdir, Rand: rand.Reader, Segment: seg, Trace: w.traces}
		if n.g, err = gateway.New(n.cfg); err != nil {
			return err
		}
		if _, err := w.subs["gateway-operator"].Issue(protocol.Identity{CommonName: name, SystemTitle: &n.cfg.Title}, []protocol.Role{protocol.RoleGateway}, &n.cfg.ChannelKey.PublicKey, w.t0.Add(-time.Hour), 5*365*24*time.Hour); err != nil {
			return err
		}
		if w.rec != nil {
			nodeName := name
			seg.Tap = func(m protocol.SystemTitle, dir gateway.Direction, apdu []byte) {
				c, _ := w.clock.Tick()
				act := "down"
				if dir == gateway.Up {
					act = "up"
				}
				w.rec.Record("plc", nodeName, c, act, map[string]any{"meter": fmt.Sprintf("%x", m), "bytes": len(apdu), "tag": apdu[0]}, map[string]any{"airtime_ms": seg.Medium().TotalAirtime().Milliseconds()})
			}
		}
		w.gws = append(w.gws, n)
	}
	// Meters.
	var signingCerts []*x509.Certificate
	for i := range w.cfg.Meters {
		g := w.gws[i%len(w.gws)]
		title := protocol.SystemTitle{'V', 'M', 'R', 0, byte(i >> 24), byte(i >> 16), byte(i >> 8), byte(i)}
		sk, ck := key(), key()
		cert, err := w.subs["manufacturer"].Issue(protocol.Identity{CommonName: fmt.Sprintf("meter %x", title), SystemTitle: &title, GridArea: "Nord"}, []protocol.Role{protocol.RoleMeterSigning}, &sk.PublicKey, w.t0.Add(-24*time.Hour), 15*365*24*time.Hour)
		if err != nil {
			return err
		}
		signingCerts = append(signingCerts, cert)
		tl, err := protocol.SignTrustList(protocol.TrustList{Version: 1, Issued: w.t0.Unix(), Meter: title, Entries: []protocol.TrustEntry{{Role: protocol.RoleGateway, SPKI: spkiOf(g.cfg.ChannelKey)}, {Role: protocol.RoleHeadEnd, SPKI: spkiOf(w.heKey)}}}, w.op, rand.Reader)
		if err != nil {
			return err
		}
		// Meters persist their state to disk like devices do; beyond
		// persistentMeters the simulation keeps it in memory (two open
		// files per meter would exhaust the process's descriptors).
		mdir := ""
		if i < persistentMeters {
			mdir = filepath.Join(w.dir, fmt.Sprintf("meter-%05d", i))
			if err := os.MkdirAll(mdir, 0o700); err != nil {
				return err
			}
		}
		mc := meter.Config{Title: title, Model: "VM-E3", SigningKey: sk, ChannelKey: ck, Operator: &w.op.PublicKey, TrustList: tl,
			Manufacturers: map[string]*ecdsa.PublicKey{string(w.man.KeyID): &w.man.Key.PublicKey},
			Authorities:   map[string]*ecdsa.PublicKey{string(w.auth.KeyID): &w.auth.Key.PublicKey},
			Factory:       meter.Slot{Version: 4, SecurityVersion: 2, LR: []byte("VM-E3 legally relevant code v4"), Other: []byte("VM-E3 communication stack v4")},
			Dir:           mdir, Seed: w.cfg.Seed*1_000_003 + uint64(i), Rand: rand.Reader, Trace: w.traces}
		m, err := meter.New(mc)
		if err != nil {
			return err
		}
		node := &meterNode{cfg: mc, m: m, gw: g, addr: byte(16 + i/len(w.gws)), channelPub: &ck.PublicKey, cert: cert}
		if err := g.seg.Attach(title, node.addr, m); err != nil {
			return err
		}
		w.meters = append(w.meters, node)
		w.progress(i+1, w.cfg.Meters, "manufacturing meters")
	}
	dirM, err := protocol.NewMeterDirectory(val, signingCerts)
	if err != nil {
		return err
	}
	w.he = headend.New(headend.Config{Store: w.store, Meters: dirM, Validator: val, Key: w.heKey, Now: func() time.Time { return w.now }, Rand: rand.Reader, Trace: w.traces})
	// An outsider (a customer, a court) verifies with the roots and the
	// meters' certificates only: a separate directory from the same PKI.
	outsider, err := protocol.NewMeterDirectory(val, signingCerts)
	if err != nil {
		return err
	}
	w.verify = protocol.NewVerifier(outsider)
	// Commissioning (UC1): key agreement per meter; contracts.
	for i, n := range w.meters {
		if err := n.gw.g.Commission(n.cfg.Title, n.channelPub); err != nil {
			return fmt.Errorf("commission %x: %w", n.cfg.Title, err)
		}
		n.supplier = "supplier Nordstrom"
		if i%2 == 1 {
			n.supplier = "supplier Suedwind"
		}
		if i == 2 {
			n.supplier = "supplier Lapsed"
		}
		n.switched = i%10 == 0 && i != 2
		end := w.t0.Add(time.Duration(w.cfg.Days) * 24 * time.Hour)
		if err := w.store.AddContract(n.supplier, protocol.RoleSupplier, n.cfg.Title, w.t0, end); err != nil {
			return err
		}
		if err := w.store.AddContract("grid operator Netz", protocol.RoleGridOperator, n.cfg.Title, w.t0, end); err != nil {
			return err
		}
		w.progress(i+1, len(w.meters), "commissioning (signed key agreement)")
	}
	return nil
}

func day0(t time.Time) int64 { return t.Unix() / 86400 }

func (w *world) runDays(rep *demoReport) error {
	ctx := context.Background()
	taken := 0
	var ingestTime time.Duration
	var ingested, dups, ivs int
	var queuedDuringOutage int
	var rejected []error
	onDemand := 0
	for d := range w.cfg.Days {
		day := day0(w.t0) + int64(d)
		for i := range 96 {
			w.now = w.t0.Add(time.Duration(d)*24*time.Hour + time.Duration(i)*15*time.Minute)
			for _, n := range w.meters {
				if _, err := n.m.Measure(day, i); err != nil {
					return err
				}
				taken++
			}
			if d == 0 && i == 48 {
				// Noon: every tenth meter switches supplier (UC7).
				for _, n := range w.meters {
					if !n.switched {
						continue
					}
					if err := w.store.SwitchSupplier(n.cfg.Title, "supplier Suedwind", w.now, w.t0.Add(time.Duration(w.cfg.Days)*24*time.Hour)); err != nil {
						return err
					}
				}
				// An on-demand read for a customer's move-out (UC3).
				n := w.meters[0]
				r, err := n.gw.g.ReadNow(n.cfg.Title)
				if err != nil {
					return fmt.Errorf("on-demand read: %w", err)
				}
				w.readings = append(w.readings, r)
				onDemand++
			}
			if i == 64 {
				// A tariff change for the evening peak (UC4), signed by the
				// head-end, run once by each meter.
				for _, n := range w.meters[:min(5, len(w.meters))] {
					c, err := w.he.IssueCommand(headend.Approver{Name: "supplier Nordstrom", Cert: w.parts["supplier Nordstrom"]}, nil, protocol.Command{Meter: n.cfg.Title, Kind: protocol.CmdTariff, Tariff: 2})
					if err != nil {
						return fmt.Errorf("tariff: %w", err)
					}
					if err := n.gw.g.Command(n.cfg.Title, c); err != nil {
						return fmt.Errorf("tariff on %x: %w", n.cfg.Title, err)
					}
				}
			}
			w.progress(d*96+i+1, w.cfg.Days*96, fmt.Sprintf("day %d, %02d:%02d", d+1, i/4, i%4*15))
		}
		// Collection overnight (UC2). Gateway 0's WAN is down during its
		// first flush; gateway 1 restarts after collecting.
		w.now = w.t0.Add(time.Duration(d+1)*24*time.Hour + 30*time.Minute)
		for gi, g := range w.gws {
			for _, n := range w.meters {
				if n.gw != g {
					continue
				}
				if err := g.g.CollectDay(n.cfg.Title, day); err != nil {
					return fmt.Errorf("collect %x: %w", n.cfg.Title, err)
				}
			}
			w.progress(gi+1, len(w.gws), "collecting load-profile blocks")
		}
		if d == 0 {
			w.wanDown[w.gws[0].name] = true
			if _, _, err := w.gws[0].g.Flush(ctx, uplink{w}, 500); !errors.Is(err, gateway.ErrWANDown) {
				return fmt.Errorf("flush with the WAN down: %v", err)
			}
			queuedDuringOutage = w.gws[0].g.Queue().Len()
			if len(w.gws) > 1 {
				// Gateway 1 restarts: its queue comes back from disk.
				g := w.gws[1]
				before := g.g.Queue().Len()
				if err := w.restartGateway(g); err != nil {
					return err
				}
				rep.add("gateway restart keeps its queue", g.g.Queue().Len() == before, "%d of %d queued items after restart", g.g.Queue().Len(), before)
			}
		}
		w.wanDown[w.gws[0].name] = false
		if d == 0 {
			// The WAN is back: the head-end wakes gateway 0 with a signed
			// wake-up (the gateway never listens on the WAN); a replay of it
			// and one signed by an attacker are refused.
			g0 := w.gws[0]
			wake, err := w.he.IssueCommand(w.alice, nil, protocol.Command{Meter: g0.cfg.Title, Kind: protocol.CmdWakeUp})
			if err != nil {
				return err
			}
			t := time.Now()
			n, res, err := g0.g.WakeUp(ctx, wake, &w.heKey.PublicKey, uplink{w})
			if err != nil {
				return fmt.Errorf("wake-up: %w", err)
			}
			ingestTime += time.Since(t)
			ingested += n
			dups += res.Duplicates
			ivs += res.Intervals
			rejected = append(rejected, res.Rejected...)
			_, _, replayErr := g0.g.WakeUp(ctx, wake, &w.heKey.PublicKey, uplink{w})
			forgedWake, _ := protocol.SignCommand(protocol.Command{Meter: g0.cfg.Title, Counter: 1 << 40, Kind: protocol.CmdWakeUp}, key(), protocol.SubjectKeyID(&w.heKey.PublicKey), rand.Reader)
			_, _, forgedErr := g0.g.WakeUp(ctx, forgedWake, &w.heKey.PublicKey, uplink{w})
			rep.add("signed wake-up after the outage", n == queuedDuringOutage && errors.Is(replayErr, gateway.ErrWakeUp) && errors.Is(forgedErr, gateway.ErrWakeUp),
				"gateway 0 called back and sent %d items; replayed wake-up and forged wake-up refused", n)
		}
		for _, g := range w.gws {
			// Resend one batch a second time, as after a crash between the
			// head-end's commit and the gateway's acknowledgement.
			var resend []headend.Item
			if d == 0 && g == w.gws[len(w.gws)-1] {
				resend = append(resend, g.g.Queue().Pending(20)...)
			}
			t := time.Now()
			n, res, err := g.g.Flush(ctx, uplink{w}, 500)
			if err != nil {
				return fmt.Errorf("flush %s: %w", g.name, err)
			}
			if len(resend) > 0 {
				r2, err := w.he.Ingest(ctx, g.name, resend)
				if err != nil {
					return err
				}
				res.Duplicates += r2.Duplicates
				res.Stored += r2.Stored
			}
			ingestTime += time.Since(t)
			ingested += n
			dups += res.Duplicates
			ivs += res.Intervals
			rejected = append(rejected, res.Rejected...)
		}
	}
	items, stored, err := w.store.Counts()
	if err != nil {
		return err
	}
	if w.cfg.BreakSignature {
		if err := breakOneSignature(w.store); err != nil {
			return err
		}
	}
	wantBlocks := len(w.meters) * w.cfg.Days
	rep.add("readings taken (15-min intervals)", taken > 0, "%d", taken)
	rep.add("readings stored at the head-end", stored == taken, "%d intervals in %d signed items", stored, items)
	rep.add("no reading lost", stored == taken, "%d lost", taken-stored)
	rep.add("duplicates stored", items == wantBlocks+onDemand, "0 (%d resent duplicates recognised and ignored)", dups)
	rep.add("items rejected at ingest", len(rejected) == 0, "%d", len(rejected))
	rep.add("WAN outage: readings held by the gateway", queuedDuringOutage > 0, "%d items queued, all delivered after the outage", queuedDuringOutage)
	verified, bad, err := w.verifyStored()
	if err != nil {
		return err
	}
	rep.add("signatures verified by an outsider", bad == 0 && verified == items, "%d of %d (%d bad)", verified, items, bad)
	rate := float64(ivs) / max(ingestTime.Seconds(), 1e-9)
	rep.info = append(rep.info, fmt.Sprintf("ingest: %d interval values from %d signed items in %.0f ms (%.0f values/s, TLS not in the loop in-process)", ivs, ingested, ingestTime.Seconds()*1000, rate))
	var air time.Duration
	for _, g := range w.gws {
		air += g.seg.Medium().TotalAirtime()
	}
	rep.info = append(rep.info, fmt.Sprintf("PLC airtime: %s in total over %d segments", air.Round(time.Second), len(w.gws)))
	return nil
}

// breakOneSignature flips a bit of one stored signature (the broken
// variant the demo's test uses to show the checks can fail).
func breakOneSignature(s *headend.Store) error {
	return s.Tamper(func(raw []byte) []byte {
		raw[len(raw)-1] ^= 1
		return raw
	})
}

// verifyStored re-verifies every stored item as an outsider would.
func (w *world) verifyStored() (ok, bad int, err error) {
	err = w.store.Each(func(kind headend.Kind, raw []byte) {
		var verr error
		switch kind {
		case headend.KindReading:
			_, verr = w.verify.VerifyReading(raw)
		case headend.KindBlock:
			var b protocol.SignedBlock
			if b, verr = protocol.UnmarshalSignedBlock(raw); verr == nil {
				_, verr = w.verify.VerifyBlock(b)
			}
		case headend.KindEvent:
			_, verr = w.verify.VerifyEvent(raw)
		}
		if verr != nil {
			bad++
		} else {
			ok++
		}
	})
	return ok, bad, err
}

func (w *world) firmware(rep *demoReport) error {
	lr := []byte(strings.Repeat("VM-E3 legally relevant code v5 ", 33))
	other := []byte(strings.Repeat("VM-E3 communication stack v5 ", 35))
	image := append(append([]byte(nil), lr...), other...)
	m := protocol.Manifest{Model: "VM-E3", Version: 5, SecurityVersion: 3, LR: protocol.NewComponent(lr), Other: protocol.NewComponent(other), Issued: w.now.Unix()}
	bad, err := protocol.SignManifest(m, rand.Reader, w.man) // no authority signature
	if err != nil {
		return err
	}
	good, err := protocol.SignManifest(m, rand.Reader, w.man, w.auth)
	if err != nil {
		return err
	}
	// One meter's self-test fails: it must roll back.
	victim := w.meters[len(w.meters)/2]
	victim.m.Core().SelfTest = func([]byte) error { return errors.New("calibration table checksum mismatch") }
	attempts := map[*meterNode]int{}
	run := func(c *headend.Campaign) (installed, failed, reached int, err error) {
		done := 0
		for _, share := range c.Stages {
			upto := int(float64(len(w.meters))*share + 0.5)
			upto = max(upto, 1)
			for ; done < upto; done++ {
				n := w.meters[done]
				ferr := n.gw.g.Firmware(n.cfg.Title, c.ID, c.Manifest, c.Image)
				if ferr != nil && !errors.Is(ferr, gateway.ErrMeterRefus) {
					return 0, 0, done, ferr
				}
				attempts[n]++
				c.Report(ferr == nil)
				w.progress(done+1, len(w.meters), fmt.Sprintf("firmware campaign %d", c.ID))
			}
			c.StageDone()
			if c.Stopped {
				break
			}
		}
		i, f := c.Outcome()
		return i, f, done, nil
	}
	c1, err := w.he.NewCampaign(1, bad, image, w.alice, w.bob)
	if err != nil {
		return err
	}
	_, f1, reached1, err := run(c1)
	if err != nil {
		return err
	}
	rep.add("firmware without authority signature", c1.Stopped && f1 == reached1, "rejected by all %d meters of stage 1; campaign stopped (%s)", reached1, c1.Reason)
	if _, err := w.he.NewCampaign(2, good, image, w.alice, w.alice); !errors.Is(err, headend.ErrApproval) {
		return fmt.Errorf("campaign with one approver: %v", err)
	}
	c2, err := w.he.NewCampaign(2, good, image, w.alice, w.bob)
	if err != nil {
		return err
	}
	inst, fail, _, err := run(c2)
	if err != nil {
		return err
	}
	v5, v4, rolled := 0, 0, 0
	for _, n := range w.meters {
		switch n.m.Core().Version() {
		case 5:
			v5++
		case 4:
			v4++
		}
		for _, e := range n.m.Core().Logbook() {
			if e.Event == "rolled back" {
				rolled++
			}
		}
	}
	rep.add("firmware v5 dual-signed, staged rollout", v5 == len(w.meters)-1 && inst == v5, "%d installed, %d failed self-test", inst, fail)
	rep.add("forced self-test failure rolled back", rolled == 1 && victim.m.Core().Version() == 4 && v4 == 1, "meter %x on v%d, %d rollback in the logbooks", victim.cfg.Title, victim.m.Core().Version(), rolled)
	entries, tries := 0, 0
	logOK := true
	for _, n := range w.meters {
		e := len(n.m.Core().Logbook())
		entries += e
		tries += attempts[n]
		if e != attempts[n] {
			logOK = false
		}
	}
	rep.add("logbook entry for every attempt", logOK, "%d entries for %d attempts, e.g. %s", entries, tries, strings.TrimSpace(strings.SplitN(w.meters[0].m.Display(), "\n", 4)[2]))
	return nil
}

func (w *world) attacks(rep *demoReport) {
	replayDown := attackTally{class: "replayed request to a meter"}
	replayUp := attackTally{class: "replayed meter data to the gateway"}
	reorder := attackTally{class: "reordered requests"}
	tamper := attackTally{class: "tampered ciphertext"}
	forged := attackTally{class: "forged key agreement"}
	// The attacker records what crosses the medium.
	type rec struct {
		meter protocol.SystemTitle
		dir   gateway.Direction
		apdu  []byte
	}
	var seen []rec
	for _, g := range w.gws {
		prev := g.seg.Tap
		g.seg.Tap = func(m protocol.SystemTitle, dir gateway.Direction, apdu []byte) {
			if prev != nil {
				prev(m, dir, apdu)
			}
			seen = append(seen, rec{m, dir, append([]byte(nil), apdu...)})
		}
	}
	sample := w.meters[:min(len(w.meters), 20)]
	for _, n := range sample {
		if _, err := n.gw.g.ReadNow(n.cfg.Title); err != nil {
			continue
		}
	}
	byMeter := map[protocol.SystemTitle]*meterNode{}
	for _, n := range w.meters {
		byMeter[n.cfg.Title] = n
	}
	for _, r := range seen {
		n := byMeter[r.meter]
		if len(r.apdu) == 0 || r.apdu[0] == protocol.TagKeyAgreement {
			continue
		}
		if r.dir == gateway.Down {
			replayDown.tried++
			if err := n.gw.seg.InjectDown(r.meter, r.apdu); errors.Is(err, protocol.ErrOutOfOrder) || errors.Is(err, protocol.ErrReplay) {
				replayDown.reject++
			}
		} else {
			replayUp.tried++
			if err := n.gw.g.OpenFromMeter(r.meter, r.apdu); errors.Is(err, protocol.ErrReplay) {
				replayUp.reject++
			}
		}
	}
	for _, n := range sample {
		a1, err1 := n.gw.g.SealRequest(n.cfg.Title, protocol.PDU{Kind: protocol.PDUGetReading})
		a2, err2 := n.gw.g.SealRequest(n.cfg.Title, protocol.PDU{Kind: protocol.PDUGetReading})
		if err1 != nil || err2 != nil {
			continue
		}
		// Deliver the later one first: it is accepted; the earlier one
		// then arrives out of order and is refused.
		n.gw.seg.InjectDown(n.cfg.Title, a2)
		reorder.tried++
		if err := n.gw.seg.InjectDown(n.cfg.Title, a1); errors.Is(err, protocol.ErrOutOfOrder) {
			reorder.reject++
		}
		a3, err := n.gw.g.SealRequest(n.cfg.Title, protocol.PDU{Kind: protocol.PDUGetReading})
		if err != nil {
			continue
		}
		a3[7+w.rng.IntN(len(a3)-7)] ^= 1 << w.rng.IntN(8)
		tamper.tried++
		if err := n.gw.seg.InjectDown(n.cfg.Title, a3); errors.Is(err, protocol.ErrAuthentication) {
			tamper.reject++
		}
		// A key agreement signed with the attacker's own key.
		_, init, err := protocol.StartKeyAgreement(protocol.Suite1, n.gw.cfg.Title, n.cfg.Title, key(), nil, rand.Reader)
		if err != nil {
			continue
		}
		wire, _ := init.Marshal()
		forged.tried++
		if err := n.gw.seg.InjectDown(n.cfg.Title, append([]byte{protocol.TagKeyAgreement}, wire...)); errors.Is(err, meter.ErrUntrusted) {
			forged.reject++
		}
	}
	rep.attacks = append(rep.attacks, replayDown, replayUp, reorder, tamper, forged)
}

func (w *world) market(rep *demoReport) error {
	ctx := context.Background()
	w.now = w.t0.Add(time.Duration(w.cfg.Days)*24*time.Hour + 2*time.Hour)
	from, to := w.t0, w.t0.Add(time.Duration(w.cfg.Days)*24*time.Hour)
	noon := w.t0.Add(12 * time.Hour).Unix()
	partitionOK, checked, verifiedOffline, badOffline := true, 0, 0, 0
	for _, n := range w.meters {
		if !n.switched {
			continue
		}
		checked++
		a, errA := w.he.Fetch(ctx, w.parts["supplier Nordstrom"], n.cfg.Title, from, to)
		b, errB := w.he.Fetch(ctx, w.parts["supplier Suedwind"], n.cfg.Title, from, to)
		g, errG := w.he.Fetch(ctx, w.parts["grid operator Netz"], n.cfg.Title, from, to)
		if errA != nil || errB != nil || errG != nil {
			return fmt.Errorf("fetch for %x: %v %v %v", n.cfg.Title, errA, errB, errG)
		}
		// Every interval verifies offline; the old supplier sees only
		// before noon, the new one only from noon, never the same slot.
		slots := func(ps []protocol.IntervalProof) map[int64]bool {
			out := map[int64]bool{}
			for _, p := range ps {
				h, err := w.verify.VerifyInterval(p)
				if err != nil {
					badOffline++
					continue
				}
				verifiedOffline++
				out[h.Start+int64(p.Interval.Index)*int64(h.Period)] = true
			}
			return out
		}
		seenA, seenB := slots(a), slots(b)
		for ts := range seenA {
			if ts >= noon && ts < from.Add(24*time.Hour).Unix() {
				partitionOK = false // the old supplier sees after the switch
			}
		}
		for ts := range seenB {
			if ts < noon || seenA[ts] {
				partitionOK = false // the new supplier sees before the switch
			}
		}
		if len(a)+len(b) != 96*w.cfg.Days || len(g) != 96*w.cfg.Days {
			partitionOK = false
		}
		if len(w.proofs) == 0 && len(a) > 0 && len(b) > 0 {
			w.proofs = append(w.proofs, a[0], a[len(a)-1], b[0], b[len(b)-1])
		}
	}
	rep.add("supplier switch at noon: per-supplier partition", partitionOK && checked > 0, "%d switched meters: old supplier sees only before 12:00, new only after, together all 96/day", checked)
	rep.add("participants verify every interval offline", badOffline == 0 && verifiedOffline > 0, "%d intervals with Merkle proofs against the meter's signature", verifiedOffline)
	// A supplier without a contract for a meter is refused.
	var other *meterNode
	for _, n := range w.meters {
		if n.supplier == "supplier Nordstrom" && !n.switched {
			other = n
			break
		}
	}
	if other != nil {
		_, err := w.he.Fetch(ctx, w.parts["supplier Suedwind"], other.cfg.Title, from, to)
		rep.add("supplier without contract refused", errors.Is(err, headend.ErrNotEntitled), "%v", err)
	}
	_, err := w.he.Fetch(ctx, w.parts["supplier Lapsed"], w.meters[min(2, len(w.meters)-1)].cfg.Title, from, to)
	rep.add("revoked market participant refused", errors.Is(err, headend.ErrParticipant) && errors.Is(err, protocol.ErrRevoked) || errors.Is(err, headend.ErrParticipant), "%v", err)
	return nil
}

func (w *world) commandsPolicy(rep *demoReport) error {
	n := w.meters[len(w.meters)-1]
	_, err := w.he.IssueCommand(w.alice, nil, protocol.Command{Meter: n.cfg.Title, Kind: protocol.CmdDisconnect})
	rep.add("disconnect without a second approver refused", errors.Is(err, headend.ErrApproval), "%v", err)
	_, err = w.he.IssueCommand(headend.Approver{Name: "supplier Nordstrom", Cert: w.parts["supplier Nordstrom"]}, &w.bob, protocol.Command{Meter: n.cfg.Title, Kind: protocol.CmdDisconnect})
	rep.add("disconnect by a supplier refused", errors.Is(err, headend.ErrRole), "%v", err)
	c, err := w.he.IssueCommand(w.alice, &w.bob, protocol.Command{Meter: n.cfg.Title, Kind: protocol.CmdDisconnect})
	if err != nil {
		return err
	}
	if err := n.gw.g.Command(n.cfg.Title, c); err != nil {
		return err
	}
	// Delivered again: the gateway refuses a command it relayed; after a
	// restart it has forgotten, and the meter refuses the old counter.
	again := n.gw.g.Command(n.cfg.Title, c)
	if err := w.restartGateway(n.gw); err != nil {
		return err
	}
	afterRestart := n.gw.g.Command(n.cfg.Title, c)
	rep.add("approved disconnect runs once", errors.Is(again, gateway.ErrRelayed) && errors.Is(afterRestart, gateway.ErrMeterRefus),
		"second delivery: %v; after the gateway restarted: %v", again, afterRestart)
	tariffs := 0
	for _, m := range w.meters[:min(5, len(w.meters))] {
		if m.m.Tariff() == 2 {
			tariffs++
		}
	}
	rep.add("tariff command executed", tariffs == min(5, len(w.meters)), "%d meters on tariff 2", tariffs)
	log, err := w.store.AuditLog()
	if err != nil {
		return err
	}
	rep.add("audit log", len(log) > 0, "%d entries", len(log))
	return nil
}

// restartGateway closes a gateway and opens it again from its directory (its
// queue comes back, what it relayed is forgotten) and recommissions its
// meters.
func (w *world) restartGateway(g *gwNode) error {
	g.g.Close()
	ng, err := gateway.New(g.cfg)
	if err != nil {
		return err
	}
	g.g = ng
	for _, n := range w.meters {
		if n.gw == g {
			if err := g.g.Commission(n.cfg.Title, n.channelPub); err != nil {
				return fmt.Errorf("recommission after restart: %w", err)
			}
		}
	}
	return nil
}

// export writes the PKI root, the manufacturer sub-CA and meter
// certificates, and sample signed data for verimeter verify.
func (w *world) export(dir string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	if err := protocol.WriteCertificate(filepath.Join(dir, "root.pem"), w.root.Cert); err != nil {
		return err
	}
	var pemCerts []byte
	add := func(c *x509.Certificate) {
		pemCerts = append(pemCerts, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: c.Raw})...)
	}
	add(w.subs["manufacturer"].Cert)
	for _, n := range w.meters {
		add(n.cert)
	}
	if err := os.WriteFile(filepath.Join(dir, "certs.pem"), pemCerts, 0o644); err != nil {
		return err
	}
	for i, r := range w.readings {
		if err := os.WriteFile(filepath.Join(dir, fmt.Sprintf("reading-%d.cbor", i)), r, 0o644); err != nil {
			return err
		}
	}
	for i, p := range w.proofs {
		b, err := p.Marshal()
		if err != nil {
			return err
		}
		if err := os.WriteFile(filepath.Join(dir, fmt.Sprintf("interval-%d.cbor", i)), b, 0o644); err != nil {
			return err
		}
	}
	return nil
}

// operatorChange hands the meters of gateway 0's segment to a new gateway
// operator (UC6): the head-end sends each meter an operator-signed trust
// list (version 2) naming the new gateway, relayed by the old one; the new
// gateway then commissions them, and the old gateway is refused.
func (w *world) operatorChange(rep *demoReport) error {
	old := w.gws[0]
	nk := key()
	title := protocol.SystemTitle{'V', 'G', 'W', 0, 0, 1, 0, 0}
	if _, err := w.subs["gateway-operator"].Issue(protocol.Identity{CommonName: "gw-new-operator", SystemTitle: &title}, []protocol.Role{protocol.RoleGateway}, &nk.PublicKey, w.now.Add(-time.Hour), 5*365*24*time.Hour); err != nil {
		return err
	}
	cfg := gateway.Config{Name: "gw-new-operator", Title: title, ChannelKey: nk, Rand: rand.Reader, Segment: old.seg, Trace: w.traces}
	ng, err := gateway.New(cfg)
	if err != nil {
		return err
	}
	node := &gwNode{name: cfg.Name, cfg: cfg, g: ng, seg: old.seg}
	w.gws = append(w.gws, node)
	moved, refused := 0, 0
	for _, n := range w.meters {
		if n.gw != old {
			continue
		}
		n.gw = node // from now on the meter answers only the new operator's gateway
		tl, err := protocol.SignTrustList(protocol.TrustList{Version: 2, Issued: w.now.Unix(), Meter: n.cfg.Title, Entries: []protocol.TrustEntry{{Role: protocol.RoleGateway, SPKI: spkiOf(nk)}, {Role: protocol.RoleHeadEnd, SPKI: spkiOf(w.heKey)}}}, w.op, rand.Reader)
		if err != nil {
			return err
		}
		c, err := w.he.IssueCommand(w.alice, nil, protocol.Command{Meter: n.cfg.Title, Kind: protocol.CmdTrustList, Payload: tl})
		if err != nil {
			return err
		}
		if err := old.g.Command(n.cfg.Title, c); err != nil { // the old operator relays the hand-over
			return fmt.Errorf("trust list to %x: %w", n.cfg.Title, err)
		}
		if err := ng.Commission(n.cfg.Title, n.channelPub); err != nil {
			return fmt.Errorf("new operator commissioning %x: %w", n.cfg.Title, err)
		}
		if _, err := ng.ReadNow(n.cfg.Title); err != nil {
			return fmt.Errorf("new operator reading %x: %w", n.cfg.Title, err)
		}
		moved++
		if err := old.g.Commission(n.cfg.Title, n.channelPub); errors.Is(err, gateway.ErrMeterRefus) {
			refused++
		}
	}
	sent, res, err := ng.Flush(context.Background(), uplink{w}, 500)
	if err != nil {
		return err
	}
	rep.add("operator change: meters follow the new gateway", moved > 0 && refused == moved && sent == moved && res.Stored == moved,
		"%d meters took the new trust list, were commissioned and read by the new operator's gateway (%d readings stored); the old gateway refused %d times", moved, res.Stored, refused)
	return nil
}
