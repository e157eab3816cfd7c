package statemachine

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"sync"
)

// TraceDir hands out one Recorder per log under a directory, each writing
// the file <dir>/<name>.ndjson. Trace validation checks a model's instances
// together (spec/Commands has one head-end, one gateway and one meter), so a
// system with many meters writes one group of logs per meter, e.g.
// commands/<meter>/headend; a role that restarts in the same process asks
// for the same name and gets the same Recorder, whose LastClock its new
// instance resumes from. A log's file is created at its first line and
// opened only while a line is appended, so ten thousand meters that may
// each log hold no descriptor open. It is safe for concurrent use.
type TraceDir struct {
	dir    string
	resume bool // continue the logs an earlier process left (OpenTraceDir)
	mu     sync.Mutex
	recs   map[string]*Recorder
}

// ErrTraceName is a log name outside [A-Za-z0-9_.-] segments joined by "/".
var ErrTraceName = errors.New("statemachine: bad trace log name")

var reTraceName = regexp.MustCompile(`^[A-Za-z0-9_-][A-Za-z0-9_.-]*(/[A-Za-z0-9_-][A-Za-z0-9_.-]*)*$`)

// NewTraceDir creates dir (and its parents) if needed.
func NewTraceDir(dir string) (*TraceDir, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	return &TraceDir{dir: dir, recs: map[string]*Recorder{}}, nil
}

// OpenTraceDir is NewTraceDir for a process that may restart (a meter's
// power loss, a gateway or head-end killed and started again): a log an
// earlier process left under dir is continued, not replaced. Its last
// complete line gives the Recorder's LastClock (and LastState), so the new
// incarnation's steps follow the old ones in the same log, and a line torn
// by the kill (no final newline) is cut off first.
func OpenTraceDir(dir string) (*TraceDir, error) {
	d, err := NewTraceDir(dir)
	if d != nil {
		d.resume = true
	}
	return d, err
}

// ErrTraceResume is a log left by an earlier process whose last complete
// line is not a trace line: its clock cannot be continued.
var ErrTraceResume = errors.New("statemachine: trace log cannot be continued")

// continueLog cuts a torn last line off the log at path and returns its
// last line (zero if the log is absent or empty) and whether it exists.
func continueLog(path string) (TraceLine, bool, error) {
	b, err := os.ReadFile(path)
	if os.IsNotExist(err) {
		return TraceLine{}, false, nil
	}
	if err != nil {
		return TraceLine{}, false, err
	}
	end := bytes.LastIndexByte(b, '\n') + 1
	if end < len(b) {
		if err := os.Truncate(path, int64(end)); err != nil {
			return TraceLine{}, false, err
		}
	}
	b = b[:end]
	if len(b) == 0 {
		return TraceLine{}, true, nil
	}
	start := bytes.LastIndexByte(b[:len(b)-1], '\n') + 1
	var l TraceLine
	if err := json.Unmarshal(b[start:], &l); err != nil || l.Clock == 0 {
		return TraceLine{}, false, fmt.Errorf("%w: %s: last line %q", ErrTraceResume, path, b[start:])
	}
	return l, true, nil
}

// Dir is the directory the logs are written under.
func (d *TraceDir) Dir() string { return d.dir }

// Recorder returns the recorder of the log name. A nil TraceDir returns a
// nil Recorder, which records nothing.
func (d *TraceDir) Recorder(name string) (*Recorder, error) {
	if d == nil {
		return nil, nil
	}
	if !reTraceName.MatchString(name) {
		return nil, fmt.Errorf("%w: %q", ErrTraceName, name)
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	if r, ok := d.recs[name]; ok {
		return r, nil
	}
	f := &appendFile{path: filepath.Join(d.dir, filepath.FromSlash(name)+".ndjson")}
	r := NewRecorder(f)
	if d.resume {
		last, exists, err := continueLog(f.path)
		if err != nil {
			return nil, err
		}
		f.created, r.last, r.lastState = exists, last.Clock, last.State
	}
	d.recs[name] = r
	return r, nil
}

// Close reports the first write error of any log, so that a trace that
// lost a line is never taken as whole. The logs hold no open file.
func (d *TraceDir) Close() error {
	if d == nil {
		return nil
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	for _, r := range d.recs {
		r.mu.Lock()
		err := r.err
		r.mu.Unlock()
		if err != nil {
			return err
		}
	}
	return nil
}

// appendFile writes each line by opening its file, appending and closing:
// the first write creates the file (replacing one left by an earlier run).
// Every line is durable in the file system before Write returns.
type appendFile struct {
	path    string
	created bool
}

func (f *appendFile) Write(p []byte) (int, error) {
	flag := os.O_WRONLY | os.O_APPEND
	if !f.created {
		if err := os.MkdirAll(filepath.Dir(f.path), 0o755); err != nil {
			return 0, err
		}
		flag = os.O_WRONLY | os.O_CREATE | os.O_TRUNC
	}
	h, err := os.OpenFile(f.path, flag, 0o644)
	if err != nil {
		return 0, err
	}
	f.created = true
	n, err := h.Write(p)
	if cerr := h.Close(); err == nil {
		err = cerr
	}
	return n, err
}
