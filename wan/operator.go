package wan

// The operator API's wire contract (JSON under /v1/operator/ on the
// head-end's TLS listener; headend/openapi.json is its OpenAPI document).
// The head-end serves these types and `verimeter operator` reads them, so
// both ends agree on one definition.

// OperatorPrefix is the path under which every operator route lives.
const OperatorPrefix = "/v1/operator/"

// MaxOperatorBody caps the body of an operator request: every request is a
// small JSON object, so anything larger is refused unread (413).
const MaxOperatorBody = 16 << 10

// Classes of an operator request's refusal, the "class" of an
// OperatorError: a client branches on them, never on the message.
const (
	ClassForbidden     = "forbidden"      // 403: not an operator certificate
	ClassBadRequest    = "bad-request"    // 400: malformed input
	ClassTooLarge      = "too-large"      // 413: body above MaxOperatorBody
	ClassNotFound      = "not-found"      // 404: no such meter item, command or alarm
	ClassConflict      = "conflict"       // 409: the object is not in a state that allows this
	ClassSameOperator  = "same-operator"  // 409: four eyes: the requester may not approve
	ClassRefused       = "refused"        // 422: the head-end's rules refuse the command (role, rate limit)
	ClassUnavailable   = "unavailable"    // 503: the store failed; nothing was changed
	ClassNotConfigured = "not-configured" // 409: the head-end lacks what this needs (a log key)
)

// OperatorError is the JSON body of every refused operator request.
type OperatorError struct {
	Class string `json:"class"`
	Error string `json:"error"`
}

// OperatorMeter is one line of the meter inventory: a meter the store
// knows (it sent signed items, or a contract names it).
type OperatorMeter struct {
	Meter       string   `json:"meter"` // system title, 16 hex digits
	Items       int      `json:"items"` // signed items stored
	LastCounter uint64   `json:"last_counter,omitempty"`
	LastKind    string   `json:"last_kind,omitempty"` // reading, event, block
	LastAt      string   `json:"last_at,omitempty"`   // RFC 3339, as the meter signed it
	LastValue   uint64   `json:"last_value,omitempty"`
	Suppliers   []string `json:"suppliers"` // holding a supplier contract now
}

// OperatorItem is one signed item of a meter as stored; a block's
// load-profile intervals are listed with their start times.
type OperatorItem struct {
	Counter   uint64             `json:"counter"`
	Kind      string             `json:"kind"`
	SignedAt  string             `json:"signed_at"`
	Value     uint64             `json:"value"`
	Intervals []OperatorInterval `json:"intervals,omitempty"`
}

// OperatorInterval is one load-profile interval of a block.
type OperatorInterval struct {
	Start  string `json:"start"`
	Wh     uint32 `json:"wh"`
	Status uint8  `json:"status"`
}

// CommandRequest asks for a command to one meter; a second operator's
// approval makes the head-end sign it.
type CommandRequest struct {
	Meter     string `json:"meter"`
	Kind      string `json:"kind"` // tariff, disconnect, reconnect, clock-set, key-rotation, trust-list
	Tariff    uint8  `json:"tariff,omitempty"`
	ClockStep int64  `json:"clock_step,omitempty"`
	// TrustList is an operator change (kind trust-list): the meter's new
	// trust list as the trust-list signer signed it, base64. The meter
	// checks the signature and that its version is above the installed one.
	TrustList string `json:"trust_list,omitempty"`
}

// Command states of the four-eyes workflow.
const (
	CommandPending = "pending" // requested, waiting for a second operator
	CommandSigning = "signing" // approved, being signed (a crash here is retried by the next approval after a minute)
	CommandReady   = "ready"   // signed; waiting for the gateway to pick it up
	CommandRefused = "refused" // the head-end's rules refused it at approval
	// CommandRelayed and CommandFailed (below) follow ready: the meter's
	// answer, as its gateway reports it.
)

// OperatorCommand is one command of the four-eyes workflow.
type OperatorCommand struct {
	ID        int64  `json:"id"`
	Meter     string `json:"meter"`
	Kind      string `json:"kind"`
	Tariff    uint8  `json:"tariff,omitempty"`
	ClockStep int64  `json:"clock_step,omitempty"`
	// TrustListVersion is the version of the trust list an operator
	// change carries (as its request said; the meter checks it).
	TrustListVersion uint64 `json:"trust_list_version,omitempty"`
	Status           string `json:"status"`
	RequestedBy      string `json:"requested_by"`
	RequestedAt      string `json:"requested_at"`
	ApprovedBy       string `json:"approved_by,omitempty"`
	ApprovedAt       string `json:"approved_at,omitempty"`
	Counter          uint64 `json:"counter,omitempty"` // the meter's command counter, once signed
	Signed           string `json:"signed,omitempty"`  // base64 COSE_Sign1, once signed
	Reason           string `json:"reason,omitempty"`  // why it was refused
	// ToApprove is, while the command is pending, the command its
	// approvers sign (protocol.EncodeCommandToApprove, base64): the
	// meter's next counter and the request's time. A command issued for
	// the meter in between makes it stale.
	ToApprove string `json:"to_approve,omitempty"`
}

// ApproveRequest is the body of an approval: the requester's and the
// approver's own signatures over the command's ToApprove, in that order
// (protocol.Approval, CBOR, base64). A disconnect needs both; the head-end
// checks them against the two operators' certificates and embeds them, and
// the meter runs the disconnect only with them.
type ApproveRequest struct {
	Approvals []string `json:"approvals"`
}

// OperatorAlarm is a tamper alarm and its acknowledgement.
type OperatorAlarm struct {
	ID      int64  `json:"id"`
	Meter   string `json:"meter"`
	Event   uint64 `json:"event"`
	Kind    string `json:"kind"`
	Raised  string `json:"raised"`
	AckedBy string `json:"acked_by,omitempty"`
	AckedAt string `json:"acked_at,omitempty"`
}

// OperatorContract is a participant's contract for a meter.
type OperatorContract struct {
	Participant string `json:"participant"`
	Role        string `json:"role"`
	From        string `json:"from"`
	To          string `json:"to"`
}

// SupplierSwitch moves a meter to a new supplier from From (RFC 3339)
// until Until.
type SupplierSwitch struct {
	Participant string `json:"participant"`
	From        string `json:"from"`
	Until       string `json:"until"`
}

// OperatorAuditEntry is one line of the audit log.
type OperatorAuditEntry struct {
	Seq    int64  `json:"seq"`
	At     string `json:"at"`
	Actor  string `json:"actor"`
	Action string `json:"action"`
	Detail string `json:"detail"`
}

// OperatorWakeUp is a signed wake-up for a gateway (UC4): the head-end
// signs it on an operator's request and a side channel (an SMS gateway)
// delivers Signed to the gateway, which calls the head-end only if it is
// authentic and newer than the last one it accepted.
type OperatorWakeUp struct {
	Gateway string `json:"gateway"`
	Counter uint64 `json:"counter"`
	Signed  string `json:"signed"` // base64 COSE_Sign1
}

// OperatorEvidence is a stored item as the meter signed it and its
// inclusion proof into a signed tree head (base64 of translog.Evidence):
// what a customer, a participant or a court verifies offline with the
// PKI's public keys (`verimeter verify`), also after the meter's key is
// revoked (UC10).
type OperatorEvidence struct {
	Meter    string `json:"meter"`
	Counter  uint64 `json:"counter"`
	Signed   string `json:"signed"` // base64 COSE_Sign1 of the item, as stored
	Evidence string `json:"evidence"`
}

// The gateway's end of the command workflow: it fetches the commands ready
// for its meters on its own outbound connection, relays each over PLC and
// posts the meter's answer.
const (
	// GatewayCommandsPath lists, for a gateway's certificate, the ready
	// commands of the meters whose data it forwarded last.
	GatewayCommandsPath = "/v1/gateway/commands"
	// CommandRelayed: the meter accepted the command.
	CommandRelayed = "relayed"
	// CommandFailed: the meter refused the command (the reason says why).
	CommandFailed = "failed"
)

// GatewayCommand is a signed command waiting for a gateway to relay it.
type GatewayCommand struct {
	ID     int64  `json:"id"`
	Meter  string `json:"meter"`
	Signed string `json:"signed"` // base64 COSE_Sign1
}

// CommandResult is the meter's answer to a relayed command, posted by the
// gateway to GatewayCommandsPath/{id}/result.
type CommandResult struct {
	OK    bool   `json:"ok"`
	Error string `json:"error,omitempty"`
}

// On-demand reads (UC3): an operator asks for a meter's signed register
// reading now; the gateway that forwarded the meter's newest item picks
// the request up on its own outbound connection, takes the reading over
// PLC, forwards it as any signed item, and reports the reading's counter.
// The head-end marks the request done only once it holds that reading.
const (
	// GatewayReadsPath lists, for a gateway's certificate, the pending read
	// requests of the meters whose data it forwarded last; a report goes
	// to GatewayReadsPath/{id}/result.
	GatewayReadsPath = "/v1/gateway/reads"
	// ReadPending: requested, waiting for the meter's gateway.
	ReadPending = "pending"
	// ReadDone: the reading is stored (its counter names it).
	ReadDone = "done"
	// ReadFailed: the meter refused or did not answer (the reason says
	// which); a new request is needed.
	ReadFailed = "failed"
)

// OperatorRead is one on-demand read request.
type OperatorRead struct {
	ID          int64  `json:"id"`
	Meter       string `json:"meter"`
	Status      string `json:"status"`
	RequestedBy string `json:"requested_by"`
	RequestedAt string `json:"requested_at"`
	Gateway     string `json:"gateway,omitempty"` // the gateway that reported it
	Counter     uint64 `json:"counter,omitempty"` // the stored reading's signed-data counter, once done
	Wh          uint32 `json:"wh,omitempty"`      // the reading's register value, once done
	Reason      string `json:"reason,omitempty"`  // why it failed
}

// GatewayRead is a pending read request as the gateway sees it.
type GatewayRead struct {
	ID    int64  `json:"id"`
	Meter string `json:"meter"`
}

// ReadResult is the gateway's report of a read request: the counter of
// the reading it took and forwarded, or why the meter gave none.
type ReadResult struct {
	Counter uint64 `json:"counter,omitempty"`
	Error   string `json:"error,omitempty"`
}
