//go:build unix

package check

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"syscall"
)

// lockDir takes the lock of the run directory dir (an exclusive flock on
// its lock file, released by the function it returns or when the process
// ends, also by a kill), or ErrInUse where another run holds it.
func lockDir(dir string) (func(), error) {
	f, err := os.OpenFile(filepath.Join(dir, lockName), os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrDisk, err)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		f.Close()
		if errors.Is(err, syscall.EWOULDBLOCK) {
			return nil, fmt.Errorf("%w: %s (another process holds the lock on %s)", ErrInUse, dir, f.Name())
		}
		return nil, fmt.Errorf("%w: locking %s: %w", ErrDisk, dir, err)
	}
	return func() { f.Close() }, nil
}
