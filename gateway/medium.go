package gateway

import (
	"errors"

	"github.com/verimeter/verimeter/protocol"
)

// ErrLinkFailed means the PLC link to a meter gave up (too many
// retransmissions without progress).
var ErrLinkFailed = errors.New("gateway: PLC link to the meter failed")

// Direction of an APDU on the medium.
type Direction uint8

// Directions.
const (
	Down Direction = iota // gateway to meter
	Up                    // meter to gateway
)

// Tap sees every APDU that crosses the medium intact, in both directions.
// An attacker on the power line is a Tap that records them for later replay
// (the simulated segment of internal/sim).
type Tap func(meter protocol.SystemTitle, dir Direction, apdu []byte)
