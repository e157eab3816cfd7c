//go:build linux

package value

import (
	"syscall"
	"testing"
	"unsafe"

	"github.com/verimeter/verimeter/internal/memtest"
)

// TestTouchPagesMapsOnce checks that memory fresh from the system, touched
// by TouchPages, is then read and written without a fault more: without
// it, the reads map the shared page of zeros (a fault a page) and the
// writes replace that mapping (another).
func TestTouchPagesMapsOnce(t *testing.T) {
	const size = 32 << 20
	pages := int64(size / pageSize)
	mem, err := syscall.Mmap(-1, 0, size, syscall.PROT_READ|syscall.PROT_WRITE, syscall.MAP_PRIVATE|syscall.MAP_ANON)
	if err != nil {
		t.Fatalf("mmap: %v", err)
	}
	defer func() { _ = syscall.Munmap(mem) }()
	// small pages, a fault each, also where the system backs memory by
	// huge pages unasked (transparent huge pages "always"); a kernel
	// without them refuses the advice and has small pages anyway
	_ = syscall.Madvise(mem, syscall.MADV_NOHUGEPAGE)
	type slot struct{ fp, key uint64 } // a claim table's
	s := unsafe.Slice((*slot)(unsafe.Pointer(&mem[0])), size/int(unsafe.Sizeof(slot{})))

	before := memtest.MinorFaults(t)
	TouchPages(s[:0]) // up to the capacity
	touched := memtest.MinorFaults(t) - before
	if touched < pages*9/10 {
		t.Fatalf("TouchPages took %d faults on %d fresh pages: it did not write them", touched, pages)
	}
	before = memtest.MinorFaults(t)
	var sum uint64
	for i := range s {
		sum += s[i].fp // read first, as a table's probe or the collector does
		s[i].key = uint64(i)
	}
	after := memtest.MinorFaults(t) - before
	if sum != 0 || after > pages/20 {
		t.Fatalf("reading and writing %d touched pages took %d faults (want at most %d); sum %d", pages, after, pages/20, sum)
	}
}

// TestTouchPagesEdges: a slice of zero-size elements or of no capacity
// has no page to touch, and a slice's length is its caller's.
func TestTouchPagesEdges(t *testing.T) {
	TouchPages(make([]struct{}, 5))
	TouchPages([]uint64(nil))
	b := make([]uint64, 0, 1000)
	TouchPages(b)
	if len(b) != 0 || cap(b) != 1000 {
		t.Fatalf("len %d cap %d after TouchPages", len(b), cap(b))
	}
}
