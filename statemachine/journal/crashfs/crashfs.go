package crashfs

import (
	"bytes"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"sort"
	"sync"

	"github.com/verimeter/verimeter/statemachine/journal"
)

// OpKind is the kind of a recorded filesystem operation.
type OpKind int

// The recorded operations.
const (
	OpCreate   OpKind = iota + 1 // a new, empty file under Name (O_CREATE of a missing name, or O_TRUNC)
	OpWrite                      // Data at Off of file Ino
	OpTruncate                   // file Ino cut to Size
	OpSync                       // fsync of file Ino: its writes are durable
	OpRename                     // Name renamed to NewName
	OpRemove                     // Name removed
	OpSyncDir                    // fsync of directory Name
)

var opNames = map[OpKind]string{OpCreate: "create", OpWrite: "write", OpTruncate: "truncate", OpSync: "fsync", OpRename: "rename", OpRemove: "remove", OpSyncDir: "fsync-dir"}

func (k OpKind) String() string { return opNames[k] }

// Op is one recorded operation.
type Op struct {
	Kind    OpKind
	Ino     int
	Name    string
	NewName string
	Off     int64
	Size    int64
	Data    []byte
}

func (o Op) String() string {
	switch o.Kind {
	case OpWrite:
		return fmt.Sprintf("write ino %d off %d len %d", o.Ino, o.Off, len(o.Data))
	case OpTruncate:
		return fmt.Sprintf("truncate ino %d to %d", o.Ino, o.Size)
	case OpSync:
		return fmt.Sprintf("fsync ino %d", o.Ino)
	case OpRename:
		return fmt.Sprintf("rename %s %s", o.Name, o.NewName)
	default:
		return fmt.Sprintf("%s %s (ino %d)", o.Kind, o.Name, o.Ino)
	}
}

// MemFS is an in-memory filesystem. The zero value is not usable; call New.
type MemFS struct {
	mu    sync.Mutex
	names map[string]int
	inos  map[int][]byte
	next  int
	rec   bool
	ops   []Op
	// Fail, when set, is consulted before each operation that changes
	// the disk (kind, path); an error it returns is returned, wrapped in a
	// *fs.PathError, and for a write half the data lands first (a full
	// disk takes what fits).
	Fail func(kind OpKind, name string) error
}

// New returns an empty MemFS.
func New() *MemFS { return &MemFS{names: map[string]int{}, inos: map[int][]byte{}} }

// Record starts recording operations (and forgets any recorded before).
func (m *MemFS) Record() {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.rec, m.ops = true, nil
}

// Ops returns the operations recorded so far.
func (m *MemFS) Ops() []Op {
	m.mu.Lock()
	defer m.mu.Unlock()
	return append([]Op(nil), m.ops...)
}

// Snapshot is the content of a MemFS: names to inode numbers and inode
// contents.
type Snapshot struct {
	Names map[string]int
	Inos  map[int][]byte
	Next  int
}

// Snapshot copies the current state (the start of a recording).
func (m *MemFS) Snapshot() Snapshot {
	m.mu.Lock()
	defer m.mu.Unlock()
	s := Snapshot{Names: map[string]int{}, Inos: map[int][]byte{}, Next: m.next}
	for n, i := range m.names {
		s.Names[n] = i
	}
	for i, d := range m.inos {
		s.Inos[i] = bytes.Clone(d)
	}
	return s
}

// FromSnapshot builds a MemFS holding s.
func FromSnapshot(s Snapshot) *MemFS {
	m := New()
	for n, i := range s.Names {
		m.names[n] = i
	}
	for i, d := range s.Inos {
		m.inos[i] = bytes.Clone(d)
	}
	m.next = s.Next
	return m
}

// ReadFile returns a file's content.
func (m *MemFS) ReadFile(name string) ([]byte, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	i, ok := m.names[path.Clean(name)]
	if !ok {
		return nil, &fs.PathError{Op: "open", Path: name, Err: fs.ErrNotExist}
	}
	return bytes.Clone(m.inos[i]), nil
}

// WriteFile replaces a file's content (test setup; not recorded).
func (m *MemFS) WriteFile(name string, data []byte) {
	m.mu.Lock()
	defer m.mu.Unlock()
	name = path.Clean(name)
	i, ok := m.names[name]
	if !ok {
		m.next++
		i = m.next
		m.names[name] = i
	}
	m.inos[i] = bytes.Clone(data)
}

// Names lists the files.
func (m *MemFS) Names() []string {
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []string
	for n := range m.names {
		out = append(out, n)
	}
	sort.Strings(out)
	return out
}

func (m *MemFS) fault(kind OpKind, name, op string) error {
	if m.Fail == nil {
		return nil
	}
	if err := m.Fail(kind, name); err != nil {
		return &fs.PathError{Op: op, Path: name, Err: err}
	}
	return nil
}

func (m *MemFS) log(o Op) {
	if m.rec {
		m.ops = append(m.ops, o)
	}
}

// OpenFile opens a file; O_CREATE and O_TRUNC are honoured.
func (m *MemFS) OpenFile(filePath string, flag int, _ fs.FileMode) (journal.File, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	name := path.Clean(filePath)
	i, ok := m.names[name]
	if !ok && flag&os.O_CREATE == 0 {
		return nil, &fs.PathError{Op: "open", Path: name, Err: fs.ErrNotExist}
	}
	if !ok || flag&os.O_TRUNC != 0 {
		if err := m.fault(OpCreate, name, "open"); err != nil {
			return nil, err
		}
		m.next++
		i = m.next
		m.names[name] = i
		m.inos[i] = nil
		m.log(Op{Kind: OpCreate, Ino: i, Name: name})
	}
	return &file{m: m, ino: i, name: name, ro: flag&(os.O_WRONLY|os.O_RDWR) == 0}, nil
}

// Rename renames a file.
func (m *MemFS) Rename(oldpath, newpath string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	oldpath, newpath = path.Clean(oldpath), path.Clean(newpath)
	i, ok := m.names[oldpath]
	if !ok {
		return &fs.PathError{Op: "rename", Path: oldpath, Err: fs.ErrNotExist}
	}
	if err := m.fault(OpRename, oldpath, "rename"); err != nil {
		return err
	}
	delete(m.names, oldpath)
	m.names[newpath] = i
	m.log(Op{Kind: OpRename, Name: oldpath, NewName: newpath})
	return nil
}

// Remove removes a file.
func (m *MemFS) Remove(name string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	name = path.Clean(name)
	if _, ok := m.names[name]; !ok {
		return &fs.PathError{Op: "remove", Path: name, Err: fs.ErrNotExist}
	}
	if err := m.fault(OpRemove, name, "remove"); err != nil {
		return err
	}
	delete(m.names, name)
	m.log(Op{Kind: OpRemove, Name: name})
	return nil
}

// SyncDir records a directory fsync.
func (m *MemFS) SyncDir(dir string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if err := m.fault(OpSyncDir, dir, "fsync"); err != nil {
		return err
	}
	m.log(Op{Kind: OpSyncDir, Name: path.Clean(dir)})
	return nil
}

type file struct {
	m      *MemFS
	ino    int
	name   string
	pos    int64
	ro     bool
	closed bool
}

func (f *file) Read(p []byte) (int, error) {
	f.m.mu.Lock()
	defer f.m.mu.Unlock()
	d := f.m.inos[f.ino]
	if f.pos >= int64(len(d)) {
		return 0, io.EOF
	}
	n := copy(p, d[f.pos:])
	f.pos += int64(n)
	return n, nil
}

func (f *file) WriteAt(p []byte, off int64) (int, error) {
	f.m.mu.Lock()
	defer f.m.mu.Unlock()
	if f.closed || f.ro {
		return 0, &fs.PathError{Op: "write", Path: f.name, Err: fs.ErrPermission}
	}
	n, err := len(p), f.m.fault(OpWrite, f.name, "write")
	if err != nil {
		n = len(p) / 2
	}
	d := f.m.inos[f.ino]
	if end := off + int64(n); end > int64(len(d)) {
		d = append(d, make([]byte, end-int64(len(d)))...)
	}
	copy(d[off:], p[:n])
	f.m.inos[f.ino] = d
	if n > 0 {
		f.m.log(Op{Kind: OpWrite, Ino: f.ino, Name: f.name, Off: off, Data: bytes.Clone(p[:n])})
	}
	return n, err
}

func (f *file) Truncate(size int64) error {
	f.m.mu.Lock()
	defer f.m.mu.Unlock()
	if err := f.m.fault(OpTruncate, f.name, "truncate"); err != nil {
		return err
	}
	d := f.m.inos[f.ino]
	if size <= int64(len(d)) {
		d = d[:size]
	} else {
		d = append(d, make([]byte, size-int64(len(d)))...)
	}
	f.m.inos[f.ino] = d
	f.m.log(Op{Kind: OpTruncate, Ino: f.ino, Name: f.name, Size: size})
	return nil
}

func (f *file) Sync() error {
	f.m.mu.Lock()
	defer f.m.mu.Unlock()
	if err := f.m.fault(OpSync, f.name, "fsync"); err != nil {
		return err
	}
	f.m.log(Op{Kind: OpSync, Ino: f.ino, Name: f.name})
	return nil
}

func (f *file) Close() error {
	f.m.mu.Lock()
	defer f.m.mu.Unlock()
	f.closed = true
	return nil
}
