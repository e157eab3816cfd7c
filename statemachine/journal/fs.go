package journal

import (
	"io"
	"io/fs"
	"os"
)

// File is what the journal needs of an open file. *os.File has it; the
// crash-point and fault tests inject files that record or refuse writes
// (statemachine/journal/crashfs). It is also what protocol.FileStore needs,
// so a role's counter file can share the injected filesystem.
type File interface {
	io.Reader
	io.WriterAt
	Sync() error
	Truncate(size int64) error
	Close() error
}

// FS is the filesystem a journal writes through: opening files, the rename
// and directory fsync of a compaction, and removing a stale compaction
// file. It exists so that tests can record every durable step (and replay
// every crash point) or fail them (full or read-only disk) without root
// privileges or a special mount.
type FS interface {
	OpenFile(name string, flag int, perm fs.FileMode) (File, error)
	Rename(oldpath, newpath string) error
	Remove(name string) error
	// SyncDir makes the directory's entries (a created or renamed file)
	// durable.
	SyncDir(dir string) error
}

// OSFS is the operating system's filesystem, the default.
var OSFS FS = osFS{}

type osFS struct{}

func (osFS) OpenFile(name string, flag int, perm fs.FileMode) (File, error) {
	f, err := os.OpenFile(name, flag, perm)
	if err != nil {
		return nil, err
	}
	return f, nil
}

func (osFS) Rename(oldpath, newpath string) error { return os.Rename(oldpath, newpath) }

func (osFS) Remove(name string) error { return os.Remove(name) }

func (osFS) SyncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	serr := d.Sync()
	cerr := d.Close()
	if serr != nil {
		return serr
	}
	return cerr
}
