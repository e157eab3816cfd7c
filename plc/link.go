package plc

import (
	"fmt"
	"time"
)

// LinkConfig parameterises an acknowledged HDLC link (IEC 62056-46 8.4.5.3.2:
// window size, maximum information field length; retransmission as in
// ISO/IEC 13239 go-back-N).
type LinkConfig struct {
	Local, Remote     Address
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
	}
	return nil
}

type segment struct {
	data []byte
	more bool
	apdu uint64 // identifier of the APDU this segment belongs to
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

// Link is one end of an acknowledged HDLC data link: segmentation of APDUs
// into I frames, a go-back-N send window with retransmission, in-order
// acceptance with duplicate suppression, and reassembly. It is a pure state
// machine: frames come in through Receive, go out through Poll, and time is
// passed in; it does no I/O.
type Link struct {
	cfg LinkConfig

	queue       []segment
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
	return &Link{cfg: cfg}, nil
}

// Failed reports whether the link gave up; a failed link must be
// re-established (SNRM/UA) by its owner.
func (l *Link) Failed() bool { return l.failed }

// Idle reports whether nothing is queued or outstanding.
func (l *Link) Idle() bool { return len(l.queue) == 0 && len(l.out) == 0 }

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
	for off := 0; off < len(apdu); off += l.cfg.MaxInfo {
		end := min(off+l.cfg.MaxInfo, len(apdu))
		l.queue = append(l.queue, segment{data: apdu[off:end:end], more: end < len(apdu), apdu: id})
	}
	l.queuedAPDUs++
	return id, nil
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
	for len(l.queue) > 0 && len(l.out) < l.cfg.Window && l.sendAllowed(l.vs, now) {
		sf := sentFrame{seg: l.queue[0], ns: l.vs}
		l.queue = l.queue[1:]
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
	var last uint64
	for _, s := range l.out {
		if s.seg.apdu != last {
			ev.Failed = append(ev.Failed, s.seg.apdu)
			last = s.seg.apdu
		}
	}
	for _, s := range l.queue {
		if s.apdu != last {
			ev.Failed = append(ev.Failed, s.apdu)
			last = s.apdu
		}
	}
	l.out, l.queue, l.queuedAPDUs = nil, nil, 0
}

// Receive processes one frame from the peer at time now. Frames not addressed
// to this link, or with a control field the link does not handle, are
// rejected with ErrControl or ErrAddress and change nothing.
func (l *Link) Receive(f Frame, now time.Time) (LinkEvents, error) {
	var ev LinkEvents
	if f.Dest != l.cfg.Local || f.Src != l.cfg.Remote {
		return ev, fmt.Errorf("%w: frame %v -> %v not for this link", ErrAddress, f.Src, f.Dest)
	}
	kind, ns, nr, _ := ParseControl(f.Control)
	switch kind {
	case KindI, KindRR, KindRNR:
	default:
		return ev, fmt.Errorf("%w: %v frame on an established link", ErrControl, kind)
	}
	if l.failed {
		return ev, ErrLinkFailed
	}
	l.ack(nr, now, &ev)
	if kind != KindI {
		return ev, nil
	}
	l.needAck = true
	if ns != l.vr {
		return ev, nil // duplicate or out of order: dropped, re-acknowledged
	}
	if len(l.reasm)+len(f.Info) > l.cfg.MaxAPDU {
		// Accept the frame (so the peer moves on) but drop the APDU.
		l.vr = (l.vr + 1) & 7
		l.reasm = l.reasm[:0]
		return ev, fmt.Errorf("%w: reassembly over %d bytes", ErrAPDUTooLong, l.cfg.MaxAPDU)
	}
	l.vr = (l.vr + 1) & 7
	l.reasm = append(l.reasm, f.Info...)
	if !f.Segmented {
		ev.Delivered = append(ev.Delivered, l.reasm)
		l.reasm = nil
	}
	return ev, nil
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
