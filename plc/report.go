package plc

import (
	"bytes"
	"fmt"
)

// DefaultTraffic is the daily traffic of a household meter in the capacity
// figures: 96 quarter-hour intervals in one signed load-profile block a day
// (yesterday's profile, collected overnight), one on-demand signed reading
// every five days and one signed alarm every twenty days. The tables also
// show two blocks a day, which pays for a second signature.
func DefaultTraffic(p Profile, meters int, loss float64, seed uint64) CapacityConfig {
	return CapacityConfig{Profile: p, Meters: meters, Hops: 2, Loss: loss, Seed: seed, BlocksPerDay: 1, ReadsPerDay: 0.2, AlarmsPerDay: 0.05}
}

// DefaultCampaign is the firmware campaign of the capacity figures: a 256 KiB
// image to 1,000 meters at 5 % loss, using at most half of the airtime.
func DefaultCampaign(p Profile, seed uint64) MulticastConfig {
	return MulticastConfig{Profile: p, Meters: 1000, Hops: 2, Loss: 0.05, Seed: seed, ImageBytes: 256 << 10, DutyCycle: 0.5, UnicastBelow: 3}
}

// CapacityFigures runs the simulations behind plc/README.md and returns the
// Markdown it prints there; it is deterministic for a seed.
func CapacityFigures(seed uint64) []byte {
	var b bytes.Buffer
	var days []CapacityReport
	for _, p := range []Profile{SFSK, G3Robust} {
		for _, loss := range []float64{0.01, 0.05, 0.10} {
			days = append(days, SimulateDay(DefaultTraffic(p, 1000, loss, seed)))
		}
		twice := DefaultTraffic(p, 1000, 0.05, seed)
		twice.BlocksPerDay = 2
		days = append(days, SimulateDay(twice))
	}
	fmt.Fprintf(&b, "Daily collection, %d-byte signed block of 96 intervals (%d bytes for 48), %d-byte signed reading, %d-byte signed alarm (APDU bytes, secured, measured on messages built by protocol/):\n\n",
		BlockAPDUBytes(96), BlockAPDUBytes(48), ReadingAPDUBytes(), AlarmAPDUBytes())
	WriteCapacityTable(&b, days)
	fmt.Fprintln(&b)
	var camps []MulticastReport
	for _, p := range []Profile{SFSK, G3Robust} {
		camps = append(camps, SimulateMulticast(DefaultCampaign(p, seed)))
	}
	fmt.Fprintf(&b, "Firmware campaign by multicast with per-meter repair (%d-byte blocks):\n\n", BlockPayload)
	WriteMulticastTable(&b, camps)
	fmt.Fprintln(&b)
	max := MaxMeters(SFSK, 0.05, 0.25, seed)
	fmt.Fprintf(&b, "Largest segment within 25 %% of S-FSK airtime at 5 %% loss: %d meters per gateway.\n", max)
	return b.Bytes()
}

// MaxMeters searches the largest number of meters (in steps of 50) whose
// daily traffic stays within share of the day's airtime.
func MaxMeters(p Profile, loss, share float64, seed uint64) int {
	best := 0
	for n := 50; n <= 5000; n += 50 {
		r := SimulateDay(DefaultTraffic(p, n, loss, seed))
		if r.Share > share || r.FailedExchanges > 0 {
			break
		}
		best = n
	}
	return best
}
