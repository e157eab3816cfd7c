package headend

import (
	"errors"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"
	"unsafe"

	"modernc.org/libc"
	sqlite3 "modernc.org/sqlite/lib"
)

// faultVFS is a SQLite VFS for the tests, registered as "vmfault": the
// default (unix) VFS of modernc.org/sqlite with its file methods wrapped.
// SQLite's own unix code does every read, write, lock, fsync and shared-
// memory operation; the wrapper only sees each call first, so it can
//
//   - record every write (file, offset, bytes), fsync, truncate and delete
//     in order, the trace the crash-point test replays (ALICE and
//     CrashMonkey record the same at the system-call level);
//   - fail writes with SQLITE_FULL or SQLITE_READONLY, as the unix VFS does
//     when write(2) reports ENOSPC or EROFS;
//   - fail reads with SQLITE_IOERR_READ after a budget of reads, a disk
//     error in the middle of a query.
//
// modernc.org/sqlite is C transpiled to Go: a VFS is a C struct of function
// pointers, and a Go function of the transpiled signature can be stored in
// one (the package's own vfs package does so). The wrapper keeps the unix
// VFS's sqlite3_file as it is and points its pMethods at a copy of the unix
// method table with xRead, xWrite, xTruncate, xSync and xClose replaced.
const faultVFSName = "vmfault"

// vfsOp is one recorded durable operation.
type vfsOp struct {
	kind byte   // 'w' write, 's' fsync, 't' truncate, 'd' delete
	file string // base name: he.db, he.db-wal, he.db-journal
	off  int64  // write: offset; truncate: size
	data []byte // write: the bytes
}

var fault struct {
	once      sync.Once
	origVFS   uintptr // the unix sqlite3_vfs
	origOpen  uintptr
	origDel   uintptr
	mu        sync.Mutex
	files     map[uintptr]vfsFile // open files by sqlite3_file pointer
	tables    map[uintptr]uintptr // unix method table -> wrapped copy
	recording bool
	ops       []vfsOp
	failWrite atomic.Int32 // a SQLite result code every write returns; 0: none
	readsLeft atomic.Int64 // reads before each fails; negative: unlimited
}

type vfsFile struct {
	name    string
	methods uintptr // the unix method table
}

type (
	xOpenFn     = func(*libc.TLS, uintptr, uintptr, uintptr, int32, uintptr) int32
	xDeleteFn   = func(*libc.TLS, uintptr, uintptr, int32) int32
	xRWFn       = func(*libc.TLS, uintptr, uintptr, int32, int64) int32
	xTruncateFn = func(*libc.TLS, uintptr, int64) int32
	xSyncFn     = func(*libc.TLS, uintptr, int32) int32
	xCloseFn    = func(*libc.TLS, uintptr) int32
)

// cptr turns a C address into a pointer (the memory is SQLite's, from
// libc's allocator, never Go's heap).
func cptr(p uintptr) unsafe.Pointer { return unsafe.Add(unsafe.Pointer(nil), p) }

// cfn reads a C function pointer as the Go function it is.
func cfn[F any](p uintptr) F { return *(*F)(unsafe.Pointer(&p)) }

// setFn stores Go function f in the C function pointer at field.
func setFn[F any](field *uintptr, f F) { *(*F)(unsafe.Pointer(field)) = f }

// registerFaultVFS registers "vmfault" once per process.
func registerFaultVFS(tb testing.TB) {
	tb.Helper()
	fault.once.Do(func() {
		fault.readsLeft.Store(-1)
		fault.files = map[uintptr]vfsFile{}
		fault.tables = map[uintptr]uintptr{}
		tls := libc.NewTLS()
		defer tls.Close()
		fault.origVFS = sqlite3.Xsqlite3_vfs_find(tls, 0)
		orig := (*sqlite3.Tsqlite3_vfs)(cptr(fault.origVFS))
		fault.origOpen, fault.origDel = orig.FxOpen, orig.FxDelete
		p := libc.Xmalloc(tls, uint64(unsafe.Sizeof(sqlite3.Tsqlite3_vfs{})))
		v := (*sqlite3.Tsqlite3_vfs)(cptr(p))
		*v = *orig
		v.FpNext = 0
		v.FzName, _ = libc.CString(faultVFSName)
		setFn[xOpenFn](&v.FxOpen, faultOpen)
		setFn[xDeleteFn](&v.FxDelete, faultDelete)
		if rc := sqlite3.Xsqlite3_vfs_register(tls, p, 0); rc != sqlite3.SQLITE_OK {
			panic("registering the fault VFS failed")
		}
	})
}

func faultOpen(tls *libc.TLS, _ uintptr, zName, pFile uintptr, flags int32, pOutFlags uintptr) int32 {
	rc := cfn[xOpenFn](fault.origOpen)(tls, fault.origVFS, zName, pFile, flags, pOutFlags)
	f := (*sqlite3.Tsqlite3_file)(cptr(pFile))
	if rc != sqlite3.SQLITE_OK || f.FpMethods == 0 {
		return rc
	}
	fault.mu.Lock()
	defer fault.mu.Unlock()
	w, ok := fault.tables[f.FpMethods]
	if !ok {
		w = libc.Xmalloc(tls, uint64(unsafe.Sizeof(sqlite3.Tsqlite3_io_methods{})))
		m := (*sqlite3.Tsqlite3_io_methods)(cptr(w))
		*m = *(*sqlite3.Tsqlite3_io_methods)(cptr(f.FpMethods))
		setFn[xRWFn](&m.FxRead, faultRead)
		setFn[xRWFn](&m.FxWrite, faultWrite)
		setFn[xTruncateFn](&m.FxTruncate, faultTruncate)
		setFn[xSyncFn](&m.FxSync, faultSync)
		setFn[xCloseFn](&m.FxClose, faultClose)
		fault.tables[f.FpMethods] = w
	}
	name := ""
	if zName != 0 {
		name = filepath.Base(libc.GoString(zName))
	}
	fault.files[pFile] = vfsFile{name: name, methods: f.FpMethods}
	f.FpMethods = w
	return rc
}

// file returns the open file and its unix method table.
func file(pFile uintptr) (vfsFile, *sqlite3.Tsqlite3_io_methods) {
	fault.mu.Lock()
	f := fault.files[pFile]
	fault.mu.Unlock()
	return f, (*sqlite3.Tsqlite3_io_methods)(cptr(f.methods))
}

func record(op vfsOp) {
	fault.mu.Lock()
	if fault.recording {
		fault.ops = append(fault.ops, op)
	}
	fault.mu.Unlock()
}

func faultRead(tls *libc.TLS, pFile, zBuf uintptr, iAmt int32, iOfst int64) int32 {
	_, m := file(pFile)
	if fault.readsLeft.Load() >= 0 && fault.readsLeft.Add(-1) < 0 {
		return sqlite3.SQLITE_IOERR_READ
	}
	return cfn[xRWFn](m.FxRead)(tls, pFile, zBuf, iAmt, iOfst)
}

func faultWrite(tls *libc.TLS, pFile, zBuf uintptr, iAmt int32, iOfst int64) int32 {
	f, m := file(pFile)
	if rc := fault.failWrite.Load(); rc != 0 {
		return rc
	}
	record(vfsOp{kind: 'w', file: f.name, off: iOfst, data: append([]byte(nil), libc.GoBytes(zBuf, int(iAmt))...)})
	return cfn[xRWFn](m.FxWrite)(tls, pFile, zBuf, iAmt, iOfst)
}

func faultTruncate(tls *libc.TLS, pFile uintptr, size int64) int32 {
	f, m := file(pFile)
	if rc := fault.failWrite.Load(); rc != 0 {
		return rc
	}
	record(vfsOp{kind: 't', file: f.name, off: size})
	return cfn[xTruncateFn](m.FxTruncate)(tls, pFile, size)
}

func faultSync(tls *libc.TLS, pFile uintptr, flags int32) int32 {
	f, m := file(pFile)
	rc := cfn[xSyncFn](m.FxSync)(tls, pFile, flags)
	if rc == sqlite3.SQLITE_OK {
		record(vfsOp{kind: 's', file: f.name})
	}
	return rc
}

func faultClose(tls *libc.TLS, pFile uintptr) int32 {
	_, m := file(pFile)
	rc := cfn[xCloseFn](m.FxClose)(tls, pFile)
	fault.mu.Lock()
	delete(fault.files, pFile)
	fault.mu.Unlock()
	return rc
}

func faultDelete(tls *libc.TLS, _ uintptr, zPath uintptr, syncDir int32) int32 {
	rc := cfn[xDeleteFn](fault.origDel)(tls, fault.origVFS, zPath, syncDir)
	if rc == sqlite3.SQLITE_OK {
		record(vfsOp{kind: 'd', file: filepath.Base(libc.GoString(zPath))})
	}
	return rc
}

// startRecording clears the trace and records from now on; stopRecording
// returns the trace.
func startRecording() {
	fault.mu.Lock()
	fault.ops, fault.recording = nil, true
	fault.mu.Unlock()
}

func stopRecording() []vfsOp {
	fault.mu.Lock()
	defer fault.mu.Unlock()
	ops := fault.ops
	fault.ops, fault.recording = nil, false
	return ops
}

// TestFaultVFSRecordsAndInjects: a store on the fault VFS works like one on
// the default VFS, its writes and fsyncs are recorded, and an injected
// write failure reaches the caller as the classified error.
func TestFaultVFSRecordsAndInjects(t *testing.T) {
	registerFaultVFS(t)
	st, err := openSQLite(filepath.Join(t.TempDir(), "he.db"), faultVFSName)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	startRecording()
	if err := st.addContract("p", "supplier", [8]byte{1}, time.Unix(0, 0), time.Unix(1, 0)); err != nil {
		t.Fatal(err)
	}
	ops := stopRecording()
	var writes, syncs int
	for _, op := range ops {
		switch op.kind {
		case 'w':
			writes++
			if op.file != "he.db-wal" {
				t.Errorf("a commit in WAL mode wrote %s", op.file)
			}
		case 's':
			syncs++
		}
	}
	if writes == 0 || syncs == 0 || ops[len(ops)-1].kind != 's' {
		t.Fatalf("one commit recorded as %d writes, %d fsyncs, ending %q", writes, syncs, ops[len(ops)-1].kind)
	}
	fault.failWrite.Store(sqlite3.SQLITE_FULL)
	err = st.addContract("q", "supplier", [8]byte{1}, time.Unix(0, 0), time.Unix(1, 0))
	fault.failWrite.Store(0)
	if !errors.Is(err, ErrDiskFull) {
		t.Fatalf("write on a full disk: %v", err)
	}
}
