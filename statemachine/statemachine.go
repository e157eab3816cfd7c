package statemachine

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"sync"
)

// OutputKind says what the caller must do with an Output. Persisting comes
// before sending so that a crash after a send never forgets what was sent.
type OutputKind uint8

const (
	// Persist asks the caller to make Payload durable before any Send of the same step.
	Persist OutputKind = iota + 1
	// Send asks the caller to transmit Payload to To.
	Send
)

func (k OutputKind) String() string {
	switch k {
	case Persist:
		return "persist"
	case Send:
		return "send"
	}
	return fmt.Sprintf("OutputKind(%d)", uint8(k))
}

// Output is one effect a step asks for. Machines append Outputs to a
// caller-owned slice so the hot path allocates nothing.
type Output struct {
	Kind    OutputKind
	To      string // peer name for Send; empty for Persist
	Message string // message type as the spec names it
	Payload any    // typed message or record; owned by the caller after Step
}

// GuardError reports the action whose guard failed and the conjunct that
// failed, so an operator at 3 a.m. reads which rule of the spec refused the event.
type GuardError struct {
	Role     string
	Action   string
	Conjunct string
}

func (e *GuardError) Error() string {
	return fmt.Sprintf("%s: action %s not enabled: %s", e.Role, e.Action, e.Conjunct)
}

// ErrNotEnabled matches every *GuardError with errors.Is.
var ErrNotEnabled = errors.New("action not enabled")

// Is makes errors.Is(err, ErrNotEnabled) hold for guard failures.
func (e *GuardError) Is(target error) bool { return target == ErrNotEnabled }

// LamportClock orders the steps of several roles: every step ticks it and every
// received message carries the sender's time, which Observe merges. It never
// goes back and a wrap is a hard error.
type LamportClock struct {
	now uint64
}

// ErrClockOverflow is returned when the clock would wrap.
var ErrClockOverflow = errors.New("statemachine: Lamport clock overflow")

// Tick advances the clock for a local step and returns the new time.
func (c *LamportClock) Tick() (uint64, error) {
	if c.now == ^uint64(0) {
		return 0, ErrClockOverflow
	}
	c.now++
	return c.now, nil
}

// Observe merges the time carried by a received message, then ticks.
func (c *LamportClock) Observe(remote uint64) (uint64, error) {
	if remote > c.now {
		c.now = remote
	}
	return c.Tick()
}

// Now is the current time without advancing.
func (c *LamportClock) Now() uint64 { return c.now }

// TraceLine is one step of a role as written to the NDJSON trace: the role
// instance, its Lamport time, the action taken, the event consumed and the
// state after the step.
type TraceLine struct {
	Role   string          `json:"role"`
	Node   string          `json:"node"`
	Clock  uint64          `json:"clock"`
	Action string          `json:"action"`
	Event  json.RawMessage `json:"event"`
	State  json.RawMessage `json:"state"`
}

// Recorder writes one TraceLine per step to an io.Writer. It is safe for
// concurrent use by several machines. A nil *Recorder records nothing.
type Recorder struct {
	mu   sync.Mutex
	enc  *json.Encoder
	err  error
	last uint64 // clock of the last line written
	// lastState is the state of the last line written (nil for none).
	lastState json.RawMessage
}

// NewRecorder returns a recorder writing NDJSON to w.
func NewRecorder(w io.Writer) *Recorder {
	return &Recorder{enc: json.NewEncoder(w)}
}

// Enabled reports whether steps are recorded; generated code checks it before
// building anything to record.
func (r *Recorder) Enabled() bool { return r != nil }

// Record writes one step. The first write error is sticky and returned by
// every later call, so a lost trace line is never silent.
func (r *Recorder) Record(role, node string, clock uint64, action string, event, state any) error {
	if r == nil {
		return nil
	}
	ev, err := json.Marshal(event)
	if err != nil {
		return fmt.Errorf("statemachine: encoding event of %s: %w", action, err)
	}
	st, err := json.Marshal(state)
	if err != nil {
		return fmt.Errorf("statemachine: encoding state after %s: %w", action, err)
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.err != nil {
		return r.err
	}
	r.err = r.enc.Encode(TraceLine{Role: role, Node: node, Clock: clock, Action: action, Event: ev, State: st})
	if r.err == nil {
		r.last, r.lastState = clock, st
	}
	return r.err
}

// LastClock is the clock of the last line written (0 for none, and for a
// nil Recorder), which Instance.Resume continues from.
func (r *Recorder) LastClock() uint64 {
	if r == nil {
		return 0
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.last
}

// LastState is the state of the last line written (nil for none, and for
// a nil Recorder): a role whose log names things the spec numbers (the
// gateway's key epochs) continues the numbering after a restart, as its
// instance continues the clock.
func (r *Recorder) LastState() json.RawMessage {
	if r == nil {
		return nil
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.lastState
}

// ReadTrace parses an NDJSON trace strictly: every line must be a complete
// TraceLine with a role and an action; unknown fields are an error.
func ReadTrace(r io.Reader) ([]TraceLine, error) {
	dec := json.NewDecoder(r)
	dec.DisallowUnknownFields()
	var out []TraceLine
	for i := 1; ; i++ {
		var l TraceLine
		if err := dec.Decode(&l); err == io.EOF {
			return out, nil
		} else if err != nil {
			return nil, fmt.Errorf("statemachine: trace line %d: %w", i, err)
		}
		if l.Role == "" || l.Action == "" {
			return nil, fmt.Errorf("statemachine: trace line %d: %w", i, ErrBadTraceLine)
		}
		out = append(out, l)
	}
}

// ErrBadTraceLine marks a trace line without role or action.
var ErrBadTraceLine = errors.New("trace line lacks role or action")
