package plc

import (
	"fmt"
	"time"
)

// LinkConfig parameterises an acknowledged HDLC link (IEC 62056-46 8.4.5.3.2:
// window size, maximum information field length; retransmission as in
// ISO/IEC 13239 go-back-N). MaxInfo and Window are this end's limits in both
// directions: what it proposes in an SNRM or grants in a UA, and what it uses
// until a negotiation lowers them.
type LinkConfig struct {
	Local, Remote Address
	// Role says which station this end is: the primary (client, gateway)
	// or the secondary (server, meter). It must be set.
	Role              Role
	MaxInfo           int           // information field per frame; DefaultMaxInfo if 0
	Window            int           // frames outstanding, 1..7; DefaultWindow if 0
	RetransmitTimeout time.Duration // resend the outstanding frames after this silence
	MaxRetries        int           // timeouts without progress before the link fails
	// FrameLifetime bounds how long a frame can survive on the medium
	// (repeater hops and propagation). A sequence number is reused only
	// after two lifetimes, so a delayed duplicate can never be taken for a
	// new frame or a stale acknowledgement for a fresh one (see sendAllowed).
	FrameLifetime time.Duration
	MaxAPDU       int // reassembly cap; 64 KiB if 0
	MaxQueue      int // APDUs waiting to be sent; 1024 if 0
}

func (c *LinkConfig) normalise() error {
	if c.MaxInfo == 0 {
		c.MaxInfo = DefaultMaxInfo
	}
	if c.Window == 0 {
		c.Window = DefaultWindow
	}
	if c.MaxAPDU == 0 {
		c.MaxAPDU = 64 << 10
	}
	if c.MaxQueue == 0 {
		c.MaxQueue = 1024
	}
	switch {
	case c.MaxInfo < 1 || c.MaxInfo > MaxInfoLimit:
		return fmt.Errorf("%w: MaxInfo %d", ErrBadParameter, c.MaxInfo)
	case c.Window < 1 || c.Window > 7:
		return fmt.Errorf("%w: Window %d", ErrBadParameter, c.Window)
	case c.RetransmitTimeout <= 0 || c.MaxRetries < 1:
		return fmt.Errorf("%w: retransmission timeout and retries must be positive", ErrBadParameter)
	case c.FrameLifetime < 0:
		return fmt.Errorf("%w: FrameLifetime", ErrBadParameter)
	case !c.Local.valid() || !c.Remote.valid():
		return fmt.Errorf("%w: addresses", ErrAddress)
	case !c.Role.valid():
		return fmt.Errorf("%w: Role must be Primary or Secondary", ErrBadParameter)
	}
	return nil
}

type segment struct {
	data []byte
	more bool
	apdu uint64 // identifier of the APDU this segment belongs to
}

// pendingPDU is an LLC PDU (LLC header and APDU) waiting to be cut into
// segments. It is cut only when its frames go out, so that a negotiation
// after Send still decides the segment size.
type pendingPDU struct {
	data []byte
	id   uint64
}

type sentFrame struct {
	seg segment
	ns  uint8
}

// LinkEvents is what a step of the link reports to its user.
type LinkEvents struct {
	Delivered [][]byte // complete APDUs received, in order, each exactly once
	Confirmed []uint64 // APDUs whose every segment the peer acknowledged
	Failed    []uint64 // APDUs given up when the link failed
}

// Link is one end of an acknowledged HDLC data link: the LLC header on
// every APDU, SNRM/UA set-up with parameter negotiation, segmentation of
// APDUs into I frames of the negotiated size, a go-back-N send window of the
// negotiated size with retransmission, in-order acceptance with duplicate
// suppression, and reassembly. It is a pure state machine: frames come in
// through Receive, go out through Poll, and time is passed in; it does no I/O.
//
// A new link uses its configured limits as if both ends had agreed on them
// out of band (a simulation wiring two ends together); the primary calls
// Connect to run the SNRM/UA exchange, and a secondary re-negotiates on
// every SNRM it receives.
type Link struct {
	cfg LinkConfig
	neg Negotiated // limits in force

	// Set-up: the primary waits for a UA after Connect; the secondary owes
	// a UA after an SNRM.
	connecting  bool
	setupSent   bool
	setupTimer  time.Time
	setupTries  int
	uaInfo      []byte
	uaOwed      bool
	lastOffered LinkParams

	queue       []pendingPDU
	qoff        int // bytes of queue[0] already cut into segments
	queuedAPDUs int
	out         []sentFrame // outstanding, oldest first
	vs          uint8       // next send sequence number
	lastSent    [8]time.Time
	everSent    [8]bool
	timer       time.Time // when the oldest outstanding frame was (re)sent
	retries     int
	failed      bool
	nextID      uint64

	vr      uint8 // next expected receive sequence number
	reasm   []byte
	needAck bool
}

// NewLink returns a link end with the given configuration.
func NewLink(cfg LinkConfig) (*Link, error) {
	if err := cfg.normalise(); err != nil {
		return nil, err
	}
	return &Link{cfg: cfg, neg: cfg.limits()}, nil
}

// limits is what the configuration allows in both directions.
func (c *LinkConfig) limits() Negotiated {
	return Negotiated{MaxInfoTX: c.MaxInfo, MaxInfoRX: c.MaxInfo, WindowTX: c.Window, WindowRX: c.Window}
}

// Failed reports whether the link gave up; a failed link must be
// re-established (SNRM/UA) by its owner: Connect on the primary.
func (l *Link) Failed() bool { return l.failed }

// Connected reports whether the link may carry I frames: it is not waiting
// for the UA to its SNRM and has not failed.
func (l *Link) Connected() bool { return !l.connecting && !l.failed }

// Negotiated returns the limits in force: after a negotiation the agreed
// ones, before it the configured ones.
func (l *Link) Negotiated() Negotiated { return l.neg }

// Idle reports whether nothing is queued or outstanding and no set-up frame
// is due.
func (l *Link) Idle() bool {
	return len(l.queue) == 0 && len(l.out) == 0 && !l.connecting && !l.uaOwed
}

// reset restarts the sequence numbers and drops what is outstanding, queued
// or half reassembled, reporting every unconfirmed APDU as Failed.
func (l *Link) reset(ev *LinkEvents) {
	l.dropAll(ev)
	l.vs, l.vr = 0, 0
	l.reasm = nil
	l.needAck = false
	l.retries = 0
	l.failed = false
}

// Connect starts (or restarts) the link from the primary: it resets both
// sequence numbers, reports every unconfirmed APDU as Failed, and makes the
// next Poll send an SNRM proposing the configured limits. APDUs sent from
// now on wait until the UA arrives; the SNRM is repeated after each
// retransmission timeout and the link fails after MaxRetries.
func (l *Link) Connect(now time.Time) (LinkEvents, error) {
	var ev LinkEvents
	if l.cfg.Role != Primary {
		return ev, fmt.Errorf("%w: only the primary station sends SNRM", ErrControl)
	}
	l.reset(&ev)
	l.connecting, l.setupSent, l.setupTries = true, false, 0
	l.setupTimer = now
	l.lastOffered = l.cfg.limits().Proposal()
	return ev, nil
}

func (l *Link) snrm() Frame {
	info, err := l.lastOffered.Marshal()
	if err != nil {
		panic("plc: configured limits do not encode: " + err.Error()) // normalise checked them
	}
	return Frame{Dest: l.cfg.Remote, Src: l.cfg.Local, Control: UControl(KindSNRM, true), Info: info}
}

// Send queues an APDU for transfer and returns its identifier, which later
// appears in LinkEvents.Confirmed or Failed.
func (l *Link) Send(apdu []byte) (uint64, error) {
	if l.failed {
		return 0, ErrLinkFailed
	}
	if len(apdu) == 0 || len(apdu) > l.cfg.MaxAPDU {
		return 0, fmt.Errorf("%w: %d bytes", ErrAPDUTooLong, len(apdu))
	}
	if l.queuedAPDUs >= l.cfg.MaxQueue {
		return 0, ErrQueueFull
	}
	l.nextID++
	id := l.nextID
	l.queue = append(l.queue, pendingPDU{data: appendLLC(make([]byte, 0, llcLen+len(apdu)), l.cfg.Role, apdu), id: id})
	l.queuedAPDUs++
	return id, nil
}

// nextSegment cuts the next segment of the queue at the negotiated
// information field length.
func (l *Link) nextSegment() segment {
	p := l.queue[0]
	end := min(l.qoff+l.neg.MaxInfoTX, len(p.data))
	s := segment{data: p.data[l.qoff:end:end], more: end < len(p.data), apdu: p.id}
	if s.more {
		l.qoff = end
	} else {
		l.queue, l.qoff = l.queue[1:], 0
	}
	return s
}

// setupSettled reports whether every copy of the last SNRM has left the
// medium: one frame lifetime after it was sent. Until then a delayed
// duplicate could still reach the secondary and restart it after it took
// the first new I frame, so that frames sent since would be misnumbered.
func (l *Link) setupSettled(now time.Time) bool {
	return !l.setupSent || now.Sub(l.setupTimer) >= l.cfg.FrameLifetime
}

// sendAllowed reports whether a new frame may take sequence number ns now.
// The peer can only expect ns+1 after accepting the new ns, and can only
// acknowledge ns+1 after that; requiring two frame lifetimes since ns+1 was
// last sent means every old copy of ns+1, and every acknowledgement it caused,
// has left the medium before the number can be confused (modulo-8 aliasing).
func (l *Link) sendAllowed(ns uint8, now time.Time) bool {
	j := (ns + 1) & 7
	return !l.everSent[j] || now.Sub(l.lastSent[j]) >= 2*l.cfg.FrameLifetime
}

func (l *Link) iframe(sf sentFrame, now time.Time) Frame {
	l.lastSent[sf.ns] = now
	l.everSent[sf.ns] = true
	l.needAck = false
	return Frame{Segmented: sf.seg.more, Dest: l.cfg.Remote, Src: l.cfg.Local, Control: IControl(sf.ns, l.vr, true), Info: sf.seg.data}
}

// Poll returns, appended to dst, the frames to transmit at time now: a
// go-back-N retransmission after a timeout, new frames within the window, and
// a receive-ready acknowledgement when one is owed. When the retries are
// exhausted the link fails and reports every unconfirmed APDU as Failed.
func (l *Link) Poll(now time.Time, dst []Frame) ([]Frame, LinkEvents) {
	var ev LinkEvents
	if l.failed {
		return dst, ev
	}
	if l.uaOwed {
		l.uaOwed = false
		dst = append(dst, Frame{Dest: l.cfg.Remote, Src: l.cfg.Local, Control: UControl(KindUA, true), Info: l.uaInfo})
	}
	if l.connecting {
		if !l.setupSent || now.Sub(l.setupTimer) >= l.cfg.RetransmitTimeout {
			if l.setupSent {
				l.setupTries++
			}
			if l.setupTries > l.cfg.MaxRetries {
				l.fail(&ev)
				return dst, ev
			}
			l.setupSent, l.setupTimer = true, now
			dst = append(dst, l.snrm())
		}
		return dst, ev
	}
	if len(l.out) > 0 && now.Sub(l.timer) >= l.cfg.RetransmitTimeout {
		l.retries++
		if l.retries > l.cfg.MaxRetries {
			l.fail(&ev)
			return dst, ev
		}
		for _, sf := range l.out {
			dst = append(dst, l.iframe(sf, now))
		}
		l.timer = now
	}
	for len(l.queue) > 0 && len(l.out) < l.neg.WindowTX && l.sendAllowed(l.vs, now) && l.setupSettled(now) {
		sf := sentFrame{seg: l.nextSegment(), ns: l.vs}
		if len(l.out) == 0 {
			l.timer = now
		}
		l.out = append(l.out, sf)
		l.vs = (l.vs + 1) & 7
		dst = append(dst, l.iframe(sf, now))
	}
	if l.needAck {
		l.needAck = false
		dst = append(dst, Frame{Dest: l.cfg.Remote, Src: l.cfg.Local, Control: RRControl(l.vr, true)})
	}
	return dst, ev
}

func (l *Link) fail(ev *LinkEvents) {
	l.failed = true
	l.connecting = false
	l.dropAll(ev)
}

// dropAll empties the window and the queue, reporting each APDU not yet
// confirmed as Failed once.
func (l *Link) dropAll(ev *LinkEvents) {
	var last uint64
	for _, s := range l.out {
		if s.seg.apdu != last {
			ev.Failed = append(ev.Failed, s.seg.apdu)
			last = s.seg.apdu
		}
	}
	for _, p := range l.queue {
		if p.id != last {
			ev.Failed = append(ev.Failed, p.id)
			last = p.id
		}
	}
	l.out, l.queue, l.qoff, l.queuedAPDUs = nil, nil, 0, 0
}

// Receive processes one frame from the peer at time now. Frames not addressed
// to this link, or with a control field the link does not handle, are
// rejected with ErrControl or ErrAddress and change nothing. An SNRM (on the
// secondary) restarts the link and makes the next Poll answer with a UA; a
// UA (on the primary, after Connect) sets the negotiated limits. A complete
// APDU whose LLC header is not the peer's is dropped with ErrLLC.
func (l *Link) Receive(f Frame, now time.Time) (LinkEvents, error) {
	var ev LinkEvents
	if f.Dest != l.cfg.Local || f.Src != l.cfg.Remote {
		return ev, fmt.Errorf("%w: frame %v -> %v not for this link", ErrAddress, f.Src, f.Dest)
	}
	kind, ns, nr, _ := ParseControl(f.Control)
	switch kind {
	case KindSNRM:
		return l.receiveSNRM(f)
	case KindUA:
		return ev, l.receiveUA(f)
	case KindI, KindRR, KindRNR:
	default:
		return ev, fmt.Errorf("%w: %v frame on an established link", ErrControl, kind)
	}
	if l.failed {
		return ev, ErrLinkFailed
	}
	if l.connecting {
		return ev, fmt.Errorf("%w: %v frame before the UA", ErrNotConnected, kind)
	}
	if kind == KindI && len(f.Info) > l.neg.MaxInfoRX {
		return ev, fmt.Errorf("%w: %d > %d negotiated", ErrInfoTooLong, len(f.Info), l.neg.MaxInfoRX)
	}
	l.ack(nr, now, &ev)
	if kind != KindI {
		return ev, nil
	}
	l.needAck = true
	if ns != l.vr {
		return ev, nil // duplicate or out of order: dropped, re-acknowledged
	}
	if len(l.reasm)+len(f.Info) > llcLen+l.cfg.MaxAPDU {
		// Accept the frame (so the peer moves on) but drop the APDU.
		l.vr = (l.vr + 1) & 7
		l.reasm = l.reasm[:0]
		return ev, fmt.Errorf("%w: reassembly over %d bytes", ErrAPDUTooLong, l.cfg.MaxAPDU)
	}
	l.vr = (l.vr + 1) & 7
	l.reasm = append(l.reasm, f.Info...)
	if f.Segmented {
		return ev, nil
	}
	pdu := l.reasm
	l.reasm = nil
	apdu, err := stripLLC(pdu, l.cfg.Role.peer())
	if err != nil {
		return ev, err // the frame is acknowledged, the APDU dropped
	}
	ev.Delivered = append(ev.Delivered, apdu)
	return ev, nil
}

// receiveSNRM runs the secondary's half of the set-up: parse the proposal,
// answer with the negotiated parameters, restart both sequence numbers. A
// malformed proposal changes nothing (the primary retries or gives up).
func (l *Link) receiveSNRM(f Frame) (LinkEvents, error) {
	var ev LinkEvents
	if l.cfg.Role != Secondary {
		return ev, fmt.Errorf("%w: SNRM sent to the primary station", ErrControl)
	}
	var proposal LinkParams
	if len(f.Info) > 0 {
		var err error
		if proposal, err = ParseLinkParams(f.Info); err != nil {
			return ev, err
		}
	}
	ua, use := Answer(proposal, l.cfg.limits())
	info, err := ua.Marshal()
	if err != nil {
		return ev, err
	}
	l.reset(&ev)
	l.neg = use
	l.uaInfo, l.uaOwed = info, true
	return ev, nil
}

// receiveUA completes the primary's set-up with the server's parameters. A
// UA when none is awaited (a duplicate answer to a repeated SNRM) is
// ignored.
func (l *Link) receiveUA(f Frame) error {
	if l.cfg.Role != Primary {
		return fmt.Errorf("%w: UA sent to the secondary station", ErrControl)
	}
	if !l.connecting {
		return nil
	}
	var ua LinkParams
	if len(f.Info) > 0 {
		var err error
		if ua, err = ParseLinkParams(f.Info); err != nil {
			return err
		}
	}
	l.neg = Accept(l.cfg.limits(), ua)
	l.connecting = false
	l.setupTries = 0
	return nil
}

// ack releases the outstanding frames acknowledged by nr. An nr outside the
// window is ignored (a stale acknowledgement).
func (l *Link) ack(nr uint8, now time.Time, ev *LinkEvents) {
	n := int((nr - l.va()) & 7)
	if n == 0 || n > len(l.out) {
		return
	}
	for _, sf := range l.out[:n] {
		if !sf.seg.more {
			ev.Confirmed = append(ev.Confirmed, sf.seg.apdu)
			l.queuedAPDUs--
		}
	}
	l.out = l.out[n:]
	l.retries = 0
	l.timer = now
}

// va is the oldest unacknowledged sequence number.
func (l *Link) va() uint8 {
	if len(l.out) == 0 {
		return l.vs
	}
	return l.out[0].ns
}
