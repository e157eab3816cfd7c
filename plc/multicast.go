package plc

import (
	"fmt"
	"io"
	"math/bits"
	"math/rand/v2"
	"time"
)

// Firmware distribution (DESIGN.md UC5): the image is cut into blocks that
// fit one HDLC information field, multicast once to every meter, and then
// repaired: the gateway asks each incomplete meter for the bitmap of blocks it
// is missing, multicasts again the blocks that several meters miss, and sends
// the rest to the few meters that miss them. Blocks carry no signature of
// their own: the image's digest is in the dual-signed manifest and the meter
// verifies the whole image before activation, so a forged or corrupted block
// costs a retry, never an install.

// BlockHeader is the per-block header inside the information field: image
// campaign identifier (4) and block number (2).
const BlockHeader = 6

// BlockPayload is the image bytes one multicast block carries: the 128-byte
// information field less the LLC header and the block header.
const BlockPayload = DefaultMaxInfo - llcHeader - BlockHeader

// Bitmap is the set of blocks a meter holds; bit i set means block i arrived.
// It is what a meter reports to its gateway in a repair round.
type Bitmap struct {
	n    int
	bits []uint64
}

// NewBitmap returns an empty bitmap for n blocks.
func NewBitmap(n int) *Bitmap { return &Bitmap{n: n, bits: make([]uint64, (n+63)/64)} }

// Set marks block i as received; out-of-range blocks are ignored (the
// receiver rejects them before this).
func (b *Bitmap) Set(i int) {
	if i >= 0 && i < b.n {
		b.bits[i/64] |= 1 << (i % 64)
	}
}

// Has reports whether block i was received.
func (b *Bitmap) Has(i int) bool { return i >= 0 && i < b.n && b.bits[i/64]&(1<<(i%64)) != 0 }

// Missing returns the number of blocks not yet received.
func (b *Bitmap) Missing() int {
	have := 0
	for _, w := range b.bits {
		have += bits.OnesCount64(w)
	}
	return b.n - have
}

// Len is the number of blocks of the image.
func (b *Bitmap) Len() int { return b.n }

// Marshal encodes the bitmap as its report on the wire: 2 bytes block count
// then the bitmap, little-endian bit order within bytes.
func (b *Bitmap) Marshal() []byte {
	out := make([]byte, 2+(b.n+7)/8)
	out[0], out[1] = byte(b.n>>8), byte(b.n)
	for i := 0; i < b.n; i++ {
		if b.Has(i) {
			out[2+i/8] |= 1 << (i % 8)
		}
	}
	return out
}

// UnmarshalBitmap parses a bitmap report strictly: the count must match the
// campaign's, the length must be exact and padding bits must be zero.
func UnmarshalBitmap(p []byte, blocks int) (*Bitmap, error) {
	if len(p) < 2 {
		return nil, ErrTruncated
	}
	n := int(p[0])<<8 | int(p[1])
	if n != blocks {
		return nil, fmt.Errorf("%w: bitmap for %d blocks, campaign has %d", ErrBadParameter, n, blocks)
	}
	if len(p) != 2+(n+7)/8 {
		if len(p) < 2+(n+7)/8 {
			return nil, ErrTruncated
		}
		return nil, ErrTrailing
	}
	b := NewBitmap(n)
	for i := 0; i < n; i++ {
		if p[2+i/8]&(1<<(i%8)) != 0 {
			b.Set(i)
		}
	}
	if n%8 != 0 && p[len(p)-1]>>(n%8) != 0 {
		return nil, fmt.Errorf("%w: padding bits set", ErrBadParameter)
	}
	return b, nil
}

// repairReportBytes is what a meter sends back: the bitmap, or the list of
// missing block numbers when that is shorter (2 bytes each), plus a header.
func repairReportBytes(b *Bitmap) int {
	return llcHeader + securedOverhead + 4 + min((b.Len()+7)/8, 2*b.Missing())
}

// MulticastConfig describes one firmware campaign on one gateway segment.
type MulticastConfig struct {
	Profile    Profile
	Meters     int
	Hops       int
	Loss       float64
	Seed       uint64
	ImageBytes int
	// DutyCycle is the share of airtime the campaign may use; the rest stays
	// for daily collection.
	DutyCycle float64
	// UnicastBelow sends a block by unicast to each meter missing it when
	// fewer than this many meters miss it; otherwise it is multicast again.
	UnicastBelow int
}

// MulticastReport is the outcome of a simulated campaign.
type MulticastReport struct {
	Config          MulticastConfig
	Blocks          int
	Rounds          int
	MulticastFrames int
	UnicastBlocks   int
	Polls           int
	Airtime         time.Duration
	DeliveryTime    time.Duration // Airtime / DutyCycle
	Complete        int           // meters holding the whole image
	// UnicastOnlyAirtime estimates the same delivery one meter at a time.
	UnicastOnlyAirtime time.Duration
}

// SimulateMulticast runs a campaign until every meter holds every block.
func SimulateMulticast(cfg MulticastConfig) MulticastReport {
	m := NewMedium(cfg.Profile, cfg.Hops, cfg.Loss, cfg.Seed)
	rng := rand.New(rand.NewPCG(cfg.Seed, 11))
	blocks := (cfg.ImageBytes + BlockPayload - 1) / BlockPayload
	rep := MulticastReport{Config: cfg, Blocks: blocks}
	have := make([]*Bitmap, cfg.Meters)
	for i := range have {
		have[i] = NewBitmap(blocks)
	}
	frame := frameBytesFor(DefaultMaxInfo, DefaultMaxInfo)
	lc := linkConfigFor(m)
	multicast := func(ids []int) {
		for _, b := range ids {
			m.Transmit("gateway", frame)
			rep.MulticastFrames++
			for i := range have {
				// Each meter hears the broadcast independently.
				if rng.Float64() >= cfg.Loss {
					have[i].Set(b)
				}
			}
		}
	}
	all := make([]int, blocks)
	for i := range all {
		all[i] = i
	}
	multicast(all)
	for rep.Rounds = 1; rep.Rounds < 100; rep.Rounds++ {
		// Repair poll: every incomplete meter reports its bitmap.
		missBy := make([]int, blocks)
		var incomplete []int
		for i, h := range have {
			if h.Missing() == 0 {
				continue
			}
			incomplete = append(incomplete, i)
			exchange(m, meterName(i), requestAPDU, repairReportBytes(h), lc)
			rep.Polls++
			for b := range blocks {
				if !h.Has(b) {
					missBy[b]++
				}
			}
		}
		if len(incomplete) == 0 {
			break
		}
		var again []int
		for b, n := range missBy {
			if n >= cfg.UnicastBelow {
				again = append(again, b)
			}
		}
		multicast(again)
		for _, i := range incomplete {
			var mine []int
			for b, n := range missBy {
				if n > 0 && n < cfg.UnicastBelow && !have[i].Has(b) {
					mine = append(mine, b)
				}
			}
			if len(mine) == 0 {
				continue
			}
			// The meter's missing blocks in one segmented APDU over the ARQ link.
			if ok, _ := exchange(m, meterName(i), len(mine)*(BlockPayload+BlockHeader), requestAPDU, lc); ok {
				for _, b := range mine {
					have[i].Set(b)
				}
			}
			rep.UnicastBlocks += len(mine)
		}
	}
	for _, h := range have {
		if h.Missing() == 0 {
			rep.Complete++
		}
	}
	rep.Airtime = m.TotalAirtime()
	rep.DeliveryTime = time.Duration(float64(rep.Airtime) / cfg.DutyCycle)
	// One meter at a time: every block over the ARQ link, expected
	// 1/(1-loss) transmissions, plus an acknowledgement per window.
	perBlock := float64(m.FrameAirtime(frame))/(1-cfg.Loss) + float64(m.FrameAirtime(ackFrameBytes))/DefaultWindow
	rep.UnicastOnlyAirtime = time.Duration(perBlock * float64(blocks) * float64(cfg.Meters))
	return rep
}

// WriteMulticastTable writes campaign reports as a Markdown table.
func WriteMulticastTable(w io.Writer, reps []MulticastReport) {
	fmt.Fprintln(w, "| medium | meters | image | loss | blocks | repair rounds | multicast frames | unicast blocks | polls | airtime | delivery at duty cycle | complete | one meter at a time |")
	fmt.Fprintln(w, "|---|---|---|---|---|---|---|---|---|---|---|---|---|")
	for _, r := range reps {
		c := r.Config
		fmt.Fprintf(w, "| %s | %d | %d KiB | %.0f %% | %d | %d | %d | %d | %d | %s | %s at %.0f %% | %d/%d | %s |\n",
			c.Profile.Name, c.Meters, c.ImageBytes/1024, c.Loss*100, r.Blocks, r.Rounds, r.MulticastFrames, r.UnicastBlocks, r.Polls,
			r.Airtime.Round(time.Minute), r.DeliveryTime.Round(time.Minute), c.DutyCycle*100, r.Complete, c.Meters, fmtDays(r.UnicastOnlyAirtime))
	}
}

func fmtDays(d time.Duration) string { return fmt.Sprintf("%.0f days", d.Hours()/24) }
