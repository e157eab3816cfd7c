package meter

import (
	"math"
	"math/rand/v2"
)

// household is a seeded consumption source with the shape of a standard
// household load profile (BDEW H0): a night base, a morning peak, a midday
// plateau and an evening peak, scaled per household and with noise. It
// returns Wh per 15-minute interval.
type household struct {
	rng   *rand.Rand
	scale float64 // annual consumption / 3,500 kWh
}

// newHousehold returns the source for one meter.
func newHousehold(seed uint64) *household {
	rng := rand.New(rand.NewPCG(seed, 0x40))
	return &household{rng: rng, scale: 0.5 + rng.Float64()*1.5}
}

// interval returns the consumption in Wh of quarter hour i (0..95) of a day.
func (h *household) interval(i int) uint32 {
	hour := float64(i) / 4
	bump := func(center, width, height float64) float64 {
		d := (hour - center) / width
		return height * math.Exp(-d*d)
	}
	// kW averaged over the quarter hour; a 3,500 kWh household averages 0.4 kW.
	kw := 0.18 + bump(7.5, 1.2, 0.45) + bump(12.5, 1.5, 0.35) + bump(19, 2, 0.75)
	kw *= h.scale * (0.8 + 0.4*h.rng.Float64())
	return uint32(kw * 250) // kW for 0.25 h = kWh/4 = Wh*1000/4
}
