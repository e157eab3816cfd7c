package value

import "unsafe"

// pageSize is the smallest page of the systems the checker runs on.
const pageSize = 4096

// TouchPages writes the zero value into s[:cap(s)] once a page, right
// after s was made (it overwrites what s holds). Fresh memory from the
// system is mapped on first use: a read maps the kernel's shared page of
// zeros, and a write after it replaces that mapping, which costs a second
// fault and a flush of the old mapping on every core the process runs on,
// an interrupt to each that the faulting core waits for. The checker's
// large tables (fingerprints, claims, expansions, the workers' slabs and
// memos) were read first, by their own probes or by the garbage collector
// scanning them, and faulted twice: MCLamportMutex with two workers took
// 10,000 to 19,000 such interrupts of the other core a run (tlb_flush trace
// events), 480 with the tables touched; its page faults fell from 58,000 to
// 43,000 and its system time from 0.19 to 0.12 s (PaxosCommit: 192,000 to
// 156,000 faults). A write first maps a page of the process's own at the
// first fault.
func TouchPages[T any](s []T) {
	s = s[:cap(s)]
	var zero T
	size := int(unsafe.Sizeof(zero))
	if size == 0 || len(s) == 0 {
		return
	}
	step := max(1, pageSize/size)
	for i := 0; i < len(s); i += step {
		s[i] = zero
	}
	s[len(s)-1] = zero
}
