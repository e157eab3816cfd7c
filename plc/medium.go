package plc

import (
	"math/rand/v2"
	"sort"
	"time"
)

// Profile describes a PLC physical and MAC layer by what decides airtime.
type Profile struct {
	Name string
	// BitRate is the raw PHY bit rate in bit/s.
	BitRate float64
	// MACEfficiency is the share of airtime that carries MAC payload bytes
	// (the HDLC frame); the rest is preambles, delimiters, PHY headers, FEC,
	// inter-frame pauses and channel access.
	MACEfficiency float64
	// HopDelay is the propagation and turnaround time per hop.
	HopDelay time.Duration
}

// Profiles of the two PLC technologies meters use.
var (
	// SFSK is IEC 61334-5-1 S-FSK at 2400 bit/s. A MAC frame is sent in
	// timeslots of 45 bytes: 2 preamble, 2 start delimiter, 38 data bytes of
	// which 3 are MAC header and 2 its FCS, and 3 bytes of pause, so at most
	// 33/45 = 0.73 of the airtime carries payload; credit-based repetition is
	// modelled separately as hops. With padding of the last timeslot and
	// the master's scheduling gaps we take 0.55.
	SFSK = Profile{Name: "S-FSK 2.4 kbit/s", BitRate: 2400, MACEfficiency: 0.55, HopDelay: 20 * time.Millisecond}
	// G3Robust is G3-PLC (ITU-T G.9903) in ROBO mode, about 4.5 kbit/s
	// effective PHY rate; CSMA/CA backoff, MAC acknowledgements and
	// 6LoWPAN/MAC headers leave about half of it to the payload.
	G3Robust = Profile{Name: "G3-PLC robust 4.5 kbit/s", BitRate: 4500, MACEfficiency: 0.5, HopDelay: 10 * time.Millisecond}
)

// Medium is a seeded, deterministic simulation of one PLC segment: a single
// shared channel (one transmission at a time), frame loss, repeater hops that
// repeat every frame, propagation delay and collisions of unsolicited
// transmissions (alarms) with scheduled traffic. Time is virtual.
type Medium struct {
	prof Profile
	hops int
	loss float64
	rng  *rand.Rand
	now  time.Duration

	perNode    map[string]time.Duration
	total      time.Duration
	frames     int
	lost       int
	collisions int

	alarms []pendingAlarm // unsolicited transmissions, by start time
}

type pendingAlarm struct {
	at    time.Duration
	node  string
	bytes int
	tries int
}

// NewMedium returns a medium with the profile, the number of repeater hops
// between gateway and meters, the end-to-end frame loss rate and a seed.
func NewMedium(p Profile, hops int, loss float64, seed uint64) *Medium {
	return &Medium{prof: p, hops: hops, loss: loss, rng: rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15)), perNode: map[string]time.Duration{}}
}

// Now is the medium's virtual time.
func (m *Medium) Now() time.Duration { return m.now }

// Advance moves virtual time forward without transmitting (idle channel),
// sending any alarm whose time has come.
func (m *Medium) Advance(d time.Duration) {
	m.flushAlarms(m.now + d)
	if m.now+d > m.now {
		m.now += d
	}
}

// FrameAirtime is the channel time one frame of n bytes occupies, repeats by
// every repeater hop included.
func (m *Medium) FrameAirtime(n int) time.Duration {
	return m.prof.Airtime(n) * time.Duration(1+m.hops)
}

// Airtime is the channel time one frame of n bytes occupies on one hop of
// a medium with profile p: what a gateway's link counts of its traffic.
func (p Profile) Airtime(n int) time.Duration {
	return time.Duration(float64(n*8)/(p.BitRate*p.MACEfficiency)*float64(time.Second)) + p.HopDelay
}

// Transmit sends one frame of n bytes from node now, occupying the channel
// for its airtime, and reports whether it arrived. A frame is lost with the
// medium's loss rate, or when an alarm starts during it (both are lost).
func (m *Medium) Transmit(node string, n int) bool {
	m.flushAlarms(m.now)
	air := m.FrameAirtime(n)
	start, end := m.now, m.now+air
	m.account(node, air)
	m.now = end
	ok := m.rng.Float64() >= m.loss
	// Alarms whose transmission would start while this frame is on the
	// channel collide with it (the alarm sender cannot hear the far repeater).
	for i := 0; i < len(m.alarms) && m.alarms[i].at < end; {
		a := m.alarms[i]
		if a.at >= start {
			ok = false
			m.collisions++
			m.account(a.node, m.FrameAirtime(a.bytes))
			m.alarms = append(m.alarms[:i], m.alarms[i+1:]...)
			a.tries++
			a.at = end + time.Duration(m.rng.Int64N(int64(30*time.Second)))
			m.schedule(a)
			continue
		}
		i++
	}
	if !ok {
		m.lost++
	}
	return ok
}

// ScheduleAlarm queues an unsolicited transmission of n bytes from node at
// virtual time at; it is sent when the channel reaches that time and retried
// after a random backoff when it collides or is lost.
func (m *Medium) ScheduleAlarm(node string, at time.Duration, n int) {
	m.schedule(pendingAlarm{at: at, node: node, bytes: n})
}

func (m *Medium) schedule(a pendingAlarm) {
	i := sort.Search(len(m.alarms), func(i int) bool { return m.alarms[i].at > a.at })
	m.alarms = append(m.alarms, pendingAlarm{})
	copy(m.alarms[i+1:], m.alarms[i:])
	m.alarms[i] = a
}

// flushAlarms sends every alarm due before t on the idle channel, with the
// gateway's acknowledgement; a lost alarm or acknowledgement is retried.
func (m *Medium) flushAlarms(t time.Duration) {
	for len(m.alarms) > 0 && m.alarms[0].at <= t {
		a := m.alarms[0]
		m.alarms = m.alarms[1:]
		if a.at > m.now {
			m.now = a.at
		}
		air := m.FrameAirtime(a.bytes)
		m.account(a.node, air)
		m.now += air
		okA := m.rng.Float64() >= m.loss
		ackAir := m.FrameAirtime(ackFrameBytes)
		m.account("gateway", ackAir)
		m.now += ackAir
		okB := m.rng.Float64() >= m.loss
		if !okA || !okB {
			m.lost++
			a.tries++
			a.at = m.now + time.Duration(m.rng.Int64N(int64(30*time.Second)))
			m.schedule(a)
		}
	}
}

// ackFrameBytes is an RR frame with one-byte client and two-byte server
// addresses: flag, format(2), addresses(3), control, FCS(2), flag.
const ackFrameBytes = 10

func (m *Medium) account(node string, air time.Duration) {
	m.perNode[node] += air
	m.total += air
	m.frames++
}

// Airtime returns the channel time used by node so far.
func (m *Medium) Airtime(node string) time.Duration { return m.perNode[node] }

// TotalAirtime returns the channel time used by everyone.
func (m *Medium) TotalAirtime() time.Duration { return m.total }

// Stats returns frames sent, frames lost and alarm collisions so far.
func (m *Medium) Stats() (frames, lost, collisions int) { return m.frames, m.lost, m.collisions }

// PendingAlarms is the number of alarms not yet delivered.
func (m *Medium) PendingAlarms() int { return len(m.alarms) }
