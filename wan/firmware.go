package wan

// Firmware campaigns reach the meters through their gateways, which stay
// outbound-only: a gateway asks the head-end for the campaign work of its
// meters (GET FirmwarePath?meter=<hex>&meter=..., answered with
// FirmwareWork), relays manifest and image over PLC, and reports each
// meter's outcome (POST FirmwarePath with a FirmwareOutcome, answered with
// a FirmwareOutcomeReply once it is durable).

// FirmwarePath is the head-end's path for a gateway's campaign pick-up.
const FirmwarePath = "/v1/gateway/firmware"

// MaxFirmwareQuery caps the meters of one pick-up request (its URL); a
// gateway with more asks in several requests.
const MaxFirmwareQuery = 256

// MaxFirmwareReply caps the answer a gateway reads: the images of the
// campaigns under way, base64 in JSON.
const MaxFirmwareReply = 64 << 20

// FirmwareJob is one campaign's work for some of a gateway's meters: the
// signed manifest and the image to relay to each of Meters (16 hex digits
// each), in rollout order.
type FirmwareJob struct {
	Campaign uint32   `json:"campaign"`
	Manifest []byte   `json:"manifest"` // base64 in JSON
	Image    []byte   `json:"image"`
	Meters   []string `json:"meters"`
}

// FirmwareWork is the head-end's answer to a pick-up: one job per running
// campaign that has pending meters of the gateway in its current stage.
type FirmwareWork struct {
	Jobs []FirmwareJob `json:"jobs"`
}

// FirmwareOutcome is one meter's outcome of a campaign as its gateway
// reports it: installed, or refused by the meter (Detail says why).
type FirmwareOutcome struct {
	Campaign  uint32 `json:"campaign"`
	Meter     string `json:"meter"`
	Installed bool   `json:"installed"`
	Detail    string `json:"detail,omitempty"`
}

// FirmwareOutcomeReply answers a reported outcome after its commit:
// Recorded is false when the meter had reported before (its first outcome
// stays).
type FirmwareOutcomeReply struct {
	Recorded bool `json:"recorded"`
}
