package check

import (
	"runtime/debug"
)

// TuneGC configures Go's garbage collector for a long model-checking run in
// a process of its own (the CLI calls it; libraries and tests need not): a
// checker allocates many short-lived values per generated state while its
// live heap grows slowly, so collecting at GOGC=100 costs a large share of
// the CPU. It raises GOGC to gcPercent (0: 200) and caps the heap softly at
// limit bytes (0: 1 GiB), so that memory, not the growth ratio, triggers
// collections near the cap. It does not override GOGC or GOMEMLIMIT set in
// the environment (as env, e.g. os.Getenv, reports them). It
// returns a function restoring the previous settings.
func TuneGC(limit int64, gcPercent int, env func(string) string) (restore func()) {
	if limit <= 0 {
		limit = 1 << 30
	}
	if gcPercent <= 0 {
		gcPercent = 200
	}
	oldPct, oldLimit := -2, int64(-2)
	if env == nil || env("GOGC") == "" {
		oldPct = debug.SetGCPercent(gcPercent)
	}
	if env == nil || env("GOMEMLIMIT") == "" {
		oldLimit = debug.SetMemoryLimit(limit)
	}
	return func() {
		if oldPct != -2 {
			debug.SetGCPercent(oldPct)
		}
		if oldLimit != -2 {
			debug.SetMemoryLimit(oldLimit)
		}
	}
}
