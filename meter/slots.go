package meter

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/verimeter/verimeter/statemachine/journal"
)

// slotNames are the files of the A/B firmware slots, beside the meter's
// journal. The journal holds only their metadata (slotMeta).
var slotNames = [2]string{"slot-a.img", "slot-b.img"}

// tmpSuffix names the file a slot image is written to before it is renamed
// over the slot. A leftover one is never the truth and is removed at boot.
const tmpSuffix = ".tmp"

// slotFiles are the images of the two firmware slots: files in dir written
// through fsys (so the crash-point tests see every step), or memory when
// dir is "" (a meter whose journal is in memory).
type slotFiles struct {
	fsys journal.FS
	dir  string
	mem  [2][]byte
}

func newSlotFiles(fsys journal.FS, dir string) *slotFiles {
	if fsys == nil {
		fsys = journal.OSFS
	}
	return &slotFiles{fsys: fsys, dir: dir}
}

// storeDir is the directory of a store's file ("" for a store in memory).
func storeDir(store *Store) string {
	if p := store.Report().Path; p != "" {
		return filepath.Dir(p)
	}
	return ""
}

func (s *slotFiles) path(i int) string { return filepath.Join(s.dir, slotNames[i]) }

// clean removes the temporary files a crash during a slot write left.
func (s *slotFiles) clean() error {
	if s.dir == "" {
		return nil
	}
	for i := range slotNames {
		if err := s.fsys.Remove(s.path(i) + tmpSuffix); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("%w: removing a stale slot image: %w", ErrStore, err)
		}
	}
	return nil
}

// write replaces slot i's image crash-safely: a temporary file written and
// fsynced, renamed over the slot's file, the directory fsynced. A crash at
// any point leaves the old image or the new one, each whole (and the core
// records the slot as empty while it is written).
func (s *slotFiles) write(i int, img []byte) error {
	if s.dir == "" {
		s.mem[i] = img
		return nil
	}
	tmp := s.path(i) + tmpSuffix
	f, err := s.fsys.OpenFile(tmp, os.O_RDWR|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		return fmt.Errorf("%w: slot %s: %w", ErrStore, slotNames[i], err)
	}
	abandon := func(err error) error {
		f.Close()
		if rerr := s.fsys.Remove(tmp); rerr != nil {
			err = errors.Join(err, rerr)
		}
		return fmt.Errorf("%w: slot %s: %w", ErrStore, slotNames[i], err)
	}
	if _, err := f.WriteAt(img, 0); err != nil {
		return abandon(err)
	}
	if err := f.Sync(); err != nil {
		return abandon(err)
	}
	if err := f.Close(); err != nil {
		return abandon(err)
	}
	if err := s.fsys.Rename(tmp, s.path(i)); err != nil {
		return abandon(err)
	}
	if err := s.fsys.SyncDir(s.dir); err != nil {
		return fmt.Errorf("%w: slot %s: %w", ErrStore, slotNames[i], err)
	}
	return nil
}

// read returns slot i's image.
func (s *slotFiles) read(i int) ([]byte, error) {
	if s.dir == "" {
		if s.mem[i] == nil {
			return nil, fs.ErrNotExist
		}
		return s.mem[i], nil
	}
	f, err := s.fsys.OpenFile(s.path(i), os.O_RDONLY, 0)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return io.ReadAll(f)
}
