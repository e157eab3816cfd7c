package headend

import (
	"context"
	"crypto/ecdsa"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"runtime"
	"slices"
	"sort"
	"sync"
	"time"

	"github.com/verimeter/verimeter/protocol"
	"github.com/verimeter/verimeter/protocol/translog"
	"github.com/verimeter/verimeter/statemachine"
	"github.com/verimeter/verimeter/wan"
)

// Config is what a head-end runs with.
type Config struct {
	Store     *Store
	Meters    *protocol.MeterDirectory // meters' metrological keys by certificate
	Validator *protocol.Validator      // participants' and approvers' certificates
	Key       *ecdsa.PrivateKey        // signs commands (role head-end)
	// LogKey signs the transparency log's tree heads (a key of its own,
	// certified by the PKI in role head-end); nil: the head-end logs every
	// item but issues no tree heads.
	LogKey *ecdsa.PrivateKey
	Now    func() time.Time
	Rand   io.Reader
	// DisconnectsPerHour caps disconnect commands (a compromised operator
	// account cannot cut a city off); 0 means 50.
	DisconnectsPerHour int
	// commandMachines caps the per-meter command machines kept in memory;
	// 0 means defaultCommandMachines. Any authenticated issuer can name any
	// title, refused attempts included, so the map is a cache: a machine
	// dropped from it is loaded again from the store's command counter,
	// which holds its whole state, on the meter's next command.
	commandMachines int
	// noStats turns the counters of Stats off (the benchmark's baseline
	// of what counting costs).
	noStats bool
	// Trace, when set, records the steps of the head-end's Commands,
	// Collection, Tamper and Market machines for each meter in
	// commands/<meter>/headend.ndjson, collection/<meter>/headend.ndjson,
	// tamper/<meter>/headend.ndjson and market/<meter>[-<switch>]/headend.ndjson,
	// for trace validation against spec/Commands.tla, spec/Collection.tla,
	// spec/Tamper.tla and spec/Market.tla.
	Trace *statemachine.TraceDir
}

// defaultCommandMachines is the cap of Config.commandMachines.
const defaultCommandMachines = 1 << 16

// commandsMachine is the head-end's machine of spec/Commands.tla for one
// meter (commands are counted per meter).
type commandsMachine = statemachine.Instance[commandsState, commandsEvent, commandsOutput]

// HeadEnd is the head-end. Its methods are safe for concurrent use.
type HeadEnd struct {
	cfg       Config
	verifiers sync.Pool
	mu        sync.Mutex
	cmds      map[protocol.SystemTitle]*commandsMachine
	cmdOut    commandsOutput
	colls     map[protocol.SystemTitle]*collectionMachine // recorded Collection machines (Config.Trace set)
	disc      []time.Time
	// pending makes the audit entry of the command being issued, given its
	// counter; the commands machine's Persist writes it in the counter's own
	// transaction. Guarded by mu; nil outside issueCommand.
	pending func(issued int64) auditEntry
	// tamper holds the Tamper machines of UC9 (tamper.go).
	tamper tamperMachines
	// market holds the Market machines of UC6 and UC7 (market.go).
	market markets
	// st counts what the head-end did, for its operators (stats.go); nil
	// when Config.noStats.
	st *stats
}

// refuse writes a refusal to the audit log and returns why. A refusal
// whose entry could not be written still refuses, and its error says both
// (errors.Is finds why, ErrAudit and ErrStore).
func (h *HeadEnd) refuse(actor, action, detail string, why error) error {
	if err := h.cfg.Store.appendAudit(h.cfg.Now(), actor, action, detail); err != nil {
		return fmt.Errorf("%w (%w)", why, err)
	}
	return why
}

// New returns a head-end.
func New(cfg Config) *HeadEnd {
	if cfg.DisconnectsPerHour == 0 {
		cfg.DisconnectsPerHour = 50
	}
	if cfg.commandMachines <= 0 {
		cfg.commandMachines = defaultCommandMachines
	}
	h := &HeadEnd{cfg: cfg, cmds: map[protocol.SystemTitle]*commandsMachine{}, colls: map[protocol.SystemTitle]*collectionMachine{}}
	h.verifiers.New = func() any { return protocol.NewVerifier(cfg.Meters) }
	if !cfg.noStats {
		h.st = new(stats)
	}
	return h
}

// store returns the head-end's store.
func (h *HeadEnd) store() *Store { return h.cfg.Store }

// Ingest verifies a gateway's batch (in parallel, one verifier per worker:
// the meter's key is cached, no X.509 work per item) and stores it in one
// durable transaction. Items that fail verification are counted with their
// reason and never stored; the others are acknowledged together.
func (h *HeadEnd) Ingest(ctx context.Context, gateway string, items []wan.Item) (wan.IngestResult, error) {
	at := h.cfg.Now()
	out := make([]verified, len(items))
	errs := make([]error, len(items))
	workers := min(runtime.GOMAXPROCS(0), max(1, len(items)/8))
	var wg sync.WaitGroup
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			v := h.verifiers.Get().(*protocol.Verifier)
			defer h.verifiers.Put(v)
			for i := w; i < len(items); i += workers {
				out[i], errs[i] = verify(v, items[i])
			}
		}()
	}
	wg.Wait()
	var res wan.IngestResult
	// The Market machine's Ingest decides whether the log may take each
	// signed item (the evidence rule, spec/Market.tla), the
	// Collection machine whether it is stored and acknowledged: the
	// signature's outcome and the Market machine's are its event's
	// i.signed; what it stores is committed below, before the answer.
	st := &storedItems{s: h.cfg.Store}
	p := collectionParams{Crypto: signatureOutcome{}, Store: st}
	var cout collectionOutput
	mp := marketParams{Switch: marketSlotAfter, Invalid: marketInvalid, Rotate: marketNoRotation, Store: &marketRow{}}
	var mout marketOutput
	ok := out[:0]
	for i := range items {
		if errs[i] == nil {
			errs[i] = h.marketIngest(ctx, &mp, &mout, &out[i], at)
		}
		if k := items[i].Kind; k == wan.KindReading || k == wan.KindBlock {
			st.meter = &out[i].meter
			errs[i] = collectionStep(&p, &cout, collectionItemOf(out[i].counter, errs[i] == nil), errs[i])
		}
		if errs[i] != nil {
			res.Rejected = append(res.Rejected, errs[i])
			continue
		}
		ok = append(ok, out[i])
	}
	// The refusals are audited in the batch's own transaction: the batch is
	// not acknowledged unless its audit entry committed with it.
	var note *auditEntry
	if len(res.Rejected) > 0 {
		note = &auditEntry{at, gateway, "ingest-rejected", fmt.Sprintf("%d items: first: %v", len(res.Rejected), res.Rejected[0])}
	}
	var err error
	var conflicts []*verified
	if res.Stored, res.Duplicates, res.Intervals, conflicts, err = h.cfg.Store.commit(ctx, ok, gateway, at, note); err != nil {
		h.st.failed(err)
		return wan.IngestResult{}, err
	}
	// A different item under a stored counter was refused at commit (the
	// data table's key decides, the stored item is kept and the reuse
	// audited): it is refused like the items refused above, and the
	// Market log does not take it (the spec's Conflict changes only the
	// audit log, which trace validation does not read).
	for _, v := range conflicts {
		res.Rejected = append(res.Rejected, counterReuse(v))
	}
	if len(conflicts) > 0 {
		kept := make([]verified, 0, len(ok))
		for i := range ok {
			if !slices.Contains(conflicts, &ok[i]) {
				kept = append(kept, ok[i])
			}
		}
		ok = kept
	}
	if h.st != nil {
		classes := make([]wan.RejectClass, len(res.Rejected))
		for i, e := range res.Rejected {
			classes[i] = rejectClass(e)
		}
		h.st.ingested(res, classes)
	}
	if res.Clock, err = h.recordCollection(wan.ClockOf(ctx), ok); err != nil {
		return wan.IngestResult{}, err
	}
	if err := h.recordMarket(ctx, ok, at); err != nil {
		return wan.IngestResult{}, err
	}
	if res.Acks, err = h.signDataAcks(ok, at); err != nil {
		return wan.IngestResult{}, err
	}
	return res, nil
}

// signDataAcks signs the end-to-end acknowledgement of each reading and
// block of a committed batch, stored now or before (spec/Collection.tla:
// the acks Ingest adds once the item is stored; never one refused at the
// commit for a reused counter), which the gateway relays to the meter: only on it does the
// meter forget the item. A duplicate is acknowledged again (the meter
// sent it again because an acknowledgement was lost). A head-end without
// a signing key acknowledges nothing end to end: the meters keep their
// items.
func (h *HeadEnd) signDataAcks(stored []verified, at time.Time) ([][]byte, error) {
	if h.cfg.Key == nil {
		return nil, nil
	}
	kid := protocol.SubjectKeyID(&h.cfg.Key.PublicKey)
	var acks [][]byte
	for _, v := range stored {
		if v.kind != wan.KindReading && v.kind != wan.KindBlock {
			continue
		}
		a, err := protocol.SignDataAck(protocol.DataAck{Meter: v.meter, Counter: v.counter, Digest: protocol.DataDigest(v.raw), Time: at.Unix()}, h.cfg.Key, kid, h.cfg.Rand)
		if err != nil {
			return nil, err
		}
		acks = append(acks, a)
	}
	return acks, nil
}

// ErrLoggedAfterInvalidity refuses an item signed with a key whose
// certificate has an invalidity date that is already past when the item
// reaches the log. Its signature verifies (the meter's claimed time is
// before the date), but that time is the key holder's word: only the log
// can say the item existed before the key was compromised, and it would
// say otherwise (DESIGN.md S8). Whoever holds a stolen key can backdate;
// this is where the backdated item ends.
var ErrLoggedAfterInvalidity = errors.New("headend: not logged before the key's invalidity date")

func verify(v *protocol.Verifier, it wan.Item) (verified, error) {
	switch it.Kind {
	case wan.KindReading:
		r, err := v.VerifyReading(it.Raw)
		if err != nil {
			return verified{}, err
		}
		return verified{meter: r.Meter, counter: r.Counter, kind: wan.KindReading, signedAt: r.Time, value: r.Value, raw: it.Raw, leaf: translog.LeafHash(it.Raw)}, nil
	case wan.KindEvent:
		e, err := v.VerifyEvent(it.Raw)
		if err != nil {
			return verified{}, err
		}
		return verified{meter: e.Meter, counter: e.Counter, kind: wan.KindEvent, signedAt: e.Time, value: uint64(e.Code), raw: it.Raw, leaf: translog.LeafHash(it.Raw)}, nil
	case wan.KindBlock:
		b, err := protocol.UnmarshalSignedBlock(it.Raw)
		if err != nil {
			return verified{}, err
		}
		hd, err := v.VerifyBlock(b)
		if err != nil {
			return verified{}, err
		}
		return verified{meter: hd.Meter, counter: hd.Counter, kind: wan.KindBlock, signedAt: hd.Start, value: hd.Register, raw: it.Raw, leaf: translog.LeafHash(b.Sign1), intervals: b.Intervals, start: hd.Start, period: int64(hd.Period)}, nil
	}
	return verified{}, fmt.Errorf("%w: item kind %d", protocol.ErrMalformed, it.Kind)
}

// ErrNoLogKey means the head-end was configured without a log key and
// cannot sign tree heads.
var ErrNoLogKey = errors.New("headend: no log key to sign tree heads")

// signTreeHead signs the log's current size and root with the head-end's
// clock and the log key, and keeps the tree head: the on-demand tree head
// (RunTreeHeads issues them on a schedule). Every item logged so far gets
// evidence of having existed at this time at the latest.
func (h *HeadEnd) signTreeHead(ctx context.Context) (*translog.SignedTreeHead, error) {
	if h.cfg.LogKey == nil {
		return nil, ErrNoLogKey
	}
	n, root, err := h.cfg.Store.logState(ctx)
	if err != nil {
		return nil, err
	}
	sth, err := translog.SignTreeHead(translog.TreeHead{Size: n, Time: h.cfg.Now(), Root: root}, h.cfg.LogKey, protocol.SubjectKeyID(&h.cfg.LogKey.PublicKey), h.cfg.Rand)
	if err != nil {
		return nil, err
	}
	if err := h.cfg.Store.saveTreeHead(ctx, sth); err != nil {
		return nil, err
	}
	return sth, nil
}

// RunTreeHeads signs a tree head every period until ctx ends: the log's
// maximum merge delay. A failed signature is retried at the next tick and
// reported to onErr (which may be nil).
func (h *HeadEnd) RunTreeHeads(ctx context.Context, every time.Duration, onErr func(error)) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			if _, err := h.signTreeHead(ctx); err != nil && onErr != nil {
				onErr(err)
			}
		}
	}
}

// evidence returns the inclusion proof of a stored item (meter, counter)
// into the earliest signed tree head that includes it; ErrNotLogged when
// there is none yet. A participant keeps it beside the signed item: it is
// what lets the item count as evidence after the meter's key is revoked.
//
// The meter's Market machine decides first whether the item is evidence
// (Serve): once the CRL of the meter's key is known, an item the log
// recorded at or after the key's invalidity date is not, and the answer is
// ErrNotEvidence.
func (h *HeadEnd) evidence(ctx context.Context, meter protocol.SystemTitle, counter uint64) (*translog.Evidence, error) {
	signedAt, ingestedAt, err := h.cfg.Store.itemTimes(ctx, meter, counter)
	if err != nil {
		return nil, err
	}
	if err := h.marketServe(ctx, meter, counter, signedAt, ingestedAt, h.cfg.Now()); err != nil {
		return nil, err
	}
	return h.cfg.Store.evidence(ctx, meter, counter)
}

// latestTreeHead returns the newest signed tree head: what participants
// fetch and gossip among themselves to detect a log showing them different
// histories.
func (h *HeadEnd) latestTreeHead(ctx context.Context) (*translog.SignedTreeHead, error) {
	return h.cfg.Store.treeHead(ctx, -1)
}

// consistency proves that the newest signed tree head extends the earliest
// one of size oldSize (RFC 9162 §2.1.4): a participant holding an old tree
// head checks that the log never rewrote what it had signed.
func (h *HeadEnd) consistency(ctx context.Context, oldSize uint64) (*translog.Consistency, error) {
	if oldSize == 0 || oldSize > 1<<62 {
		return nil, fmt.Errorf("%w: tree size %d", translog.ErrMalformed, oldSize)
	}
	old, err := h.cfg.Store.treeHead(ctx, int64(oldSize))
	if err != nil {
		return nil, err
	}
	latest, err := h.cfg.Store.treeHead(ctx, -1)
	if err != nil {
		return nil, err
	}
	p, err := h.cfg.Store.ConsistencyProof(old.Size, latest.Size)
	if err != nil {
		return nil, err
	}
	return &translog.Consistency{Old: old, New: latest, Proof: p}, nil
}

// evidenceFor is evidence for a signed item as a participant holds it: the
// COSE_Sign1 of a reading, an event, or a block's header (an interval
// proof's Sign1).
func (h *HeadEnd) evidenceFor(ctx context.Context, sign1 []byte) (*translog.Evidence, error) {
	v := h.verifiers.Get().(*protocol.Verifier)
	defer h.verifiers.Put(v)
	if hd, err := v.VerifyBlockHeader(sign1); err == nil {
		return h.evidence(ctx, hd.Meter, hd.Counter)
	}
	if r, err := v.VerifyReading(sign1); err == nil {
		return h.evidence(ctx, r.Meter, r.Counter)
	}
	e, err := v.VerifyEvent(sign1)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrNotLogged, err)
	}
	return h.evidence(ctx, e.Meter, e.Counter)
}

// Participant is a market participant as the head-end knows it from its
// certificate.
func participantName(c *x509.Certificate) string { return c.Subject.CommonName }

// checkParticipant validates a participant's certificate now, in one of the
// participant roles.
func (h *HeadEnd) checkParticipant(c *x509.Certificate) error {
	now := h.cfg.Now()
	var errs []error
	for _, r := range []protocol.Role{protocol.RoleSupplier, protocol.RoleGridOperator} {
		err := h.cfg.Validator.Check(c, r, now)
		if err == nil {
			return nil
		}
		errs = append(errs, err)
	}
	for _, e := range errs {
		if !errors.Is(e, protocol.ErrRole) {
			return fmt.Errorf("%w: %w", ErrParticipant, e)
		}
	}
	return fmt.Errorf("%w: %w", ErrParticipant, errs[0])
}

// fetch returns to a participant the load-profile intervals of meter in
// [from, to) its contracts cover, each with the meter's signed block header
// and its Merkle proof, so the participant verifies every value offline with
// the PKI roots alone. Intervals outside its contracts are never returned; a
// request wholly outside them is ErrNotEntitled.
//
// The participant's certificate is checked first (a revoked one is
// refused, no step of the spec). For the meter's suppliers on either side
// of its supplier switch (spec/Market.tla's A and B), the meter's Market
// machine decides which slots are served (market.go); other participants
// (a grid operator, a supplier of an earlier switch) are served their
// contract periods as the contracts table holds them.
func (h *HeadEnd) fetch(ctx context.Context, participant *x509.Certificate, meter protocol.SystemTitle, from, to time.Time) (_ []protocol.IntervalProof, err error) {
	defer func() { h.st.fetched(err) }()
	if err := h.checkParticipant(participant); err != nil {
		return nil, h.refuse(participantName(participant), "fetch-refused", err.Error(), err)
	}
	name := participantName(participant)
	periods, err := h.cfg.Store.entitled(ctx, name, meter)
	if err != nil {
		return nil, err
	}
	sw, err := h.cfg.Store.supplierSwitch(ctx, meter)
	if err != nil {
		return nil, err
	}
	note := ""
	if party := sw.party(name); party != "" {
		slots, names, err := h.marketSlots(ctx, meter, sw, party, from.Unix(), to.Unix())
		if err != nil {
			return nil, err
		}
		var within [][2]int64
		for _, p := range periods {
			for _, s := range slots {
				if lo, hi := max(p[0], s[0]), min(p[1], s[1]); lo < hi {
					within = append(within, [2]int64{lo, hi})
				}
			}
		}
		periods, note = within, " (Market slots "+names+")"
	}
	var spans [][2]int64
	for _, p := range periods {
		lo, hi := max(p[0], from.Unix()), min(p[1], to.Unix())
		if lo < hi {
			spans = append(spans, [2]int64{lo, hi})
		}
	}
	if len(spans) == 0 {
		return nil, h.refuse(name, "fetch-refused", fmt.Sprintf("meter %x %s..%s: no contract", meter, from.UTC().Format(time.RFC3339), to.UTC().Format(time.RFC3339)),
			fmt.Errorf("%w: %s for meter %x", ErrNotEntitled, name, meter))
	}
	// Blocks overlapping an entitled span; each interval inside a span is
	// returned with its proof. Two blocks covering the same quarter hour
	// (a meter's resend under a new counter) yield the first only.
	type timed struct {
		ts int64
		p  protocol.IntervalProof
	}
	var found []timed
	seen := map[int64]bool{}
	now := h.cfg.Now()
	withheld := 0
	for _, sp := range spans {
		rows, err := h.cfg.Store.blocks(ctx, meter, sp[0], sp[1])
		if err != nil {
			return nil, err
		}
		for _, row := range rows {
			sb, err := protocol.UnmarshalSignedBlock(row.raw)
			if err != nil {
				return nil, err
			}
			hd, err := h.blockHeader(sb.Sign1)
			if err != nil {
				return nil, err
			}
			// The Market machine's Serve: a block the log recorded at or
			// after the key's invalidity date is no evidence once the CRL
			// is known, and is not handed out.
			if err := h.marketServe(ctx, meter, hd.Counter, row.signedAt, row.ingestedAt, now); err != nil {
				if !errors.Is(err, ErrNotEvidence) {
					return nil, err
				}
				withheld++
				continue
			}
			var leaves []protocol.Hash
			for i, iv := range sb.Intervals {
				ts := hd.Start + int64(iv.Index)*int64(hd.Period)
				if ts < sp[0] || ts >= sp[1] || seen[ts] {
					continue
				}
				if leaves == nil {
					if leaves, err = protocol.IntervalLeaves(sb.Intervals); err != nil {
						return nil, err
					}
				}
				seen[ts] = true
				found = append(found, timed{ts, protocol.IntervalProof{Sign1: sb.Sign1, Interval: iv, Path: protocol.MerklePath(leaves, i)}})
			}
		}
	}
	sort.Slice(found, func(i, j int) bool { return found[i].ts < found[j].ts })
	out := make([]protocol.IntervalProof, len(found))
	for i, f := range found {
		out[i] = f.p
	}
	// Fail closed: what the audit log does not show was released is not.
	if withheld > 0 {
		note += fmt.Sprintf(" (%d blocks logged after the key's invalidity date withheld)", withheld)
	}
	if err := h.cfg.Store.appendAudit(h.cfg.Now(), name, "fetch", fmt.Sprintf("meter %x: %d intervals%s", meter, len(out), note)); err != nil {
		return nil, err
	}
	return out, nil
}

// blockHeader reads a stored block's header. The block was verified at
// ingest; this reads its fields again (verification with the head-end's
// directory, which also proves the store was not altered since).
func (h *HeadEnd) blockHeader(sign1 []byte) (protocol.BlockHeader, error) {
	v := h.verifiers.Get().(*protocol.Verifier)
	defer h.verifiers.Put(v)
	return v.VerifyBlockHeader(sign1)
}

// approver is an operator account that issues or approves commands and
// campaigns, identified by its certificate.
type approver struct {
	Name string
	Cert *x509.Certificate
}

// allowedKinds says which command kinds a role may issue (DESIGN.md UC4):
// the head-end operator all; a supplier tariffs; a grid operator
// disconnects and reconnects.
func allowedKinds(r protocol.Role, k protocol.CommandKind) bool {
	switch r {
	case protocol.RoleHeadEnd:
		return true
	case protocol.RoleSupplier:
		return k == protocol.CmdTariff
	case protocol.RoleGridOperator:
		return k == protocol.CmdDisconnect || k == protocol.CmdReconnect
	}
	return false
}

func (h *HeadEnd) roleOf(a approver) (protocol.Role, error) {
	now := h.cfg.Now()
	for _, r := range []protocol.Role{protocol.RoleHeadEnd, protocol.RoleGridOperator, protocol.RoleSupplier} {
		if err := h.cfg.Validator.Check(a.Cert, r, now); err == nil {
			return r, nil
		}
	}
	return "", fmt.Errorf("%w: %s has no valid issuing certificate", ErrRole, a.Name)
}

// issueCommand checks and signs a command for one meter: the issuer's role
// must allow the kind; a disconnect needs a second, different approver whose
// role also allows it, and is rate limited. The command gets the meter's
// next command counter, so meters run it once and in issue order.
//
// approvals are the issuer's and the second approver's own signatures over
// the command (protocol.Approval, made outside the head-end with their
// keys, in that order): a disconnect needs both, and meters run it only
// with them (spec/Commands.tla ExecuteDisconnect), so the head-end's key
// alone never disconnects. They sign the command as commandToApprove
// returns it (the meter's next counter, c.Issued); each must verify under
// its approver's certificate, and the head-end embeds them.
//
// The counter and the approval rule are the head-end's generated machine
// of spec/Commands.tla (action Issue): the first approver is member 1 of
// the spec's staff, a second, different approver member 2, and the kind is
// "disconnect" or "other". The counter is persisted before the command is
// signed and handed out.
func (h *HeadEnd) issueCommand(issuer approver, second *approver, c protocol.Command, approvals ...protocol.Approval) ([]byte, error) {
	now := h.cfg.Now()
	role, err := h.roleOf(issuer)
	if err != nil {
		return nil, err
	}
	if !allowedKinds(role, c.Kind) {
		return nil, h.refuse(issuer.Name, "command-refused", fmt.Sprintf("kind %d by role %s", c.Kind, role),
			fmt.Errorf("%w: %s (%s) may not issue command kind %d", ErrRole, issuer.Name, role, c.Kind))
	}
	ev := commandsEvent{Kind: commandsIssue, A: 1, B: 1, K: "other"}
	if second != nil && second.Name != issuer.Name && participantName(second.Cert) != participantName(issuer.Cert) {
		r2, err := h.roleOf(*second)
		if err != nil || !allowedKinds(r2, c.Kind) {
			return nil, fmt.Errorf("%w: approver %s", ErrApproval, second.Name)
		}
		ev.B = 2
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	if c.Kind == protocol.CmdDisconnect {
		ev.K = "disconnect"
		cut := now.Add(-time.Hour)
		kept := h.disc[:0]
		for _, t := range h.disc {
			if t.After(cut) {
				kept = append(kept, t)
			}
		}
		h.disc = kept
		if len(h.disc) >= h.cfg.DisconnectsPerHour {
			return nil, h.refuse(issuer.Name, "command-refused", "disconnect rate limit",
				fmt.Errorf("%w: %d disconnects in the last hour", ErrRateLimit, len(h.disc)))
		}
	}
	m, err := h.commands(c.Meter)
	if err != nil {
		return nil, err
	}
	c.Counter = uint64(m.State.Issued + 1)
	if c.Issued == 0 {
		c.Issued = now.Unix()
	}
	if err := checkApprovals(c, issuer, second, approvals); err != nil {
		return nil, h.refuse(issuer.Name, "command-refused", fmt.Sprintf("kind %d of %x: %v", c.Kind, c.Meter, err), err)
	}
	c.Approvals = approvals
	// The command's audit entry is written with its counter, in one
	// transaction (Persist): a counter that is used has its entry, and a
	// command whose entry did not commit is never signed nor handed out.
	approvers := issuer.Name
	if ev.B == 2 {
		approvers += " and " + second.Name
	}
	h.pending = func(issued int64) auditEntry {
		return auditEntry{now, issuer.Name, "command", fmt.Sprintf("kind %d meter %x counter %d approved by %s", c.Kind, c.Meter, issued, approvers)}
	}
	clock, err := m.Apply(0, ev, &h.cmdOut)
	h.pending = nil
	if errors.Is(err, statemachine.ErrNotEnabled) {
		return nil, h.refuse(issuer.Name, "command-refused", fmt.Sprintf("kind %d of %x without a second approver", c.Kind, c.Meter),
			fmt.Errorf("%w: kind %d of %x: %w", ErrApproval, c.Kind, c.Meter, err))
	}
	if err != nil {
		return nil, err
	}
	if c.Kind == protocol.CmdDisconnect {
		h.disc = append(h.disc, now)
	}
	// The machine's Issue also sends the staff's approvals (sigs): they
	// are the ones embedded in the command, verified above.
	if uint64(m.State.Issued) != c.Counter {
		return nil, fmt.Errorf("%w: counter %d issued, %d approved", ErrStore, m.State.Issued, c.Counter)
	}
	if m.Rec != nil {
		c.Trace = clock
	}
	signed, err := protocol.SignCommand(c, h.cfg.Key, protocol.SubjectKeyID(&h.cfg.Key.PublicKey), h.cfg.Rand)
	if err != nil {
		// The counter stays used (meters accept any higher one); its audit
		// entry is already written, and this one says it was not sent.
		return nil, h.refuse(issuer.Name, "command-unsigned", fmt.Sprintf("meter %x counter %d: %v", c.Meter, c.Counter, err), err)
	}
	return signed, nil
}

// commandToApprove is c as its approvers sign it (protocol.SignApproval)
// and issueCommand then signs it: the meter's next command counter, and
// c.Issued (now when zero). A command issued for the meter in between
// moves the counter on, and approvals of the old one are refused.
func (h *HeadEnd) commandToApprove(c protocol.Command) (protocol.Command, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	m, err := h.commands(c.Meter)
	if err != nil {
		return c, err
	}
	c.Counter = uint64(m.State.Issued + 1)
	if c.Issued == 0 {
		c.Issued = h.cfg.Now().Unix()
	}
	c.Approvals, c.Trace = nil, 0
	return c, nil
}

// checkApprovals checks the staff's approvals of c: a disconnect carries
// exactly two, the issuer's and the second approver's, under two distinct
// keys; another kind carries none or those of its approvers in the same
// order. Each must verify over c under its approver's certificate, which
// the caller has validated (roleOf). An approval made by anyone else, or
// over another command, is ErrApproval.
func checkApprovals(c protocol.Command, issuer approver, second *approver, approvals []protocol.Approval) error {
	who := []approver{issuer}
	if second != nil {
		who = append(who, *second)
	}
	if c.Kind == protocol.CmdDisconnect && (len(approvals) != 2 || second == nil) {
		return fmt.Errorf("%w: a disconnect needs the signed approvals of its two approvers, got %d", ErrApproval, len(approvals))
	}
	if len(approvals) > len(who) {
		return fmt.Errorf("%w: %d approvals for %d approvers", ErrApproval, len(approvals), len(who))
	}
	seen := map[string]bool{}
	for i, a := range approvals {
		pub, ok := who[i].Cert.PublicKey.(*ecdsa.PublicKey)
		if !ok {
			return fmt.Errorf("%w: %s has no ECDSA key", ErrApproval, who[i].Name)
		}
		if err := protocol.VerifyApproval(c, a, pub); err != nil {
			return fmt.Errorf("%w: by %s: %w", ErrApproval, who[i].Name, err)
		}
		if seen[string(a.KeyID)] {
			return fmt.Errorf("%w: %s's key approved twice", ErrApproval, who[i].Name)
		}
		seen[string(a.KeyID)] = true
	}
	return nil
}

// commands returns the meter's Commands machine, loading its counter from
// the store on first use. Called with h.mu held.
func (h *HeadEnd) commands(meter protocol.SystemTitle) (*commandsMachine, error) {
	if m, ok := h.cmds[meter]; ok {
		return m, nil
	}
	issued, err := h.cfg.Store.commandCounter(meter)
	if err != nil {
		return nil, err
	}
	rec, err := h.cfg.Trace.Recorder(fmt.Sprintf("commands/%x/headend", meter[:]))
	if err != nil {
		return nil, err
	}
	p := &commandsParams{}
	m := &commandsMachine{
		Role: "headend", Name: "headend", Step: p.Step, State: p.Init(), Rec: rec,
		Action: func(o *commandsOutput) string { return o.Action },
		Persist: func(s *commandsState, o *commandsOutput) error {
			if !o.Persist {
				return nil
			}
			if h.pending == nil {
				return fmt.Errorf("%w: no audit entry for counter %d of %x", ErrAudit, s.Issued, meter)
			}
			return h.cfg.Store.issueCommand(meter, s.Issued, h.pending(s.Issued))
		},
	}
	m.State.Issued = issued
	m.Resume()
	if len(h.cmds) >= h.cfg.commandMachines {
		for k := range h.cmds { // any one: its state is in the store
			delete(h.cmds, k)
			break
		}
	}
	h.cmds[meter] = m
	return m, nil
}
