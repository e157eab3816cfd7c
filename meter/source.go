package meter

import "errors"

// Source is the meter's metrology front end: the energy that flowed in
// each quarter hour. A device reads it from its measuring chip; the
// simulation (internal/sim) supplies a household load profile. The meter
// only asks, in order, for the quarter hours of each day.
type Source interface {
	// Interval returns the energy in Wh consumed in quarter hour i
	// (0..95) of the current day.
	Interval(i int) uint32
}

// ErrNoSource is a configuration without a measurement source: a meter
// that cannot measure is refused at construction, not at its first
// quarter hour.
var ErrNoSource = errors.New("meter: no measurement source (Config.Source)")
