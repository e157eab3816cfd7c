package memtest

import (
	"syscall"
	"testing"
)

// MinorFaults is the process's count of page faults served without I/O,
// for a test to compare before and after the memory use it checks.
func MinorFaults(t testing.TB) int64 {
	t.Helper()
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		t.Fatalf("getrusage: %v", err)
	}
	return ru.Minflt
}
