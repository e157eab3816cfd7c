package check

import (
	"bufio"
	"bytes"
	"compress/flate"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sync/atomic"
)

// ErrDisk wraps the failures of the checker's files (trace file, spilled
// frontier, checkpoint): the run stops with it, not with a wrong count.
var ErrDisk = errors.New("check: disk")

// ErrInUse is the error of a run given a directory (MetaDir, Recover)
// that another run is using: two runs writing one trace file and one
// checkpoint, or a recovery reading a checkpoint another run is
// rewriting, would count states wrongly instead of failing.
var ErrInUse = fmt.Errorf("%w: directory in use by another run", ErrDisk)

// lockName is the file in a run's directory that the run locks (lockDir).
const lockName = "lock"

// nodeRecord is the size of a trace record on disk: fingerprint (8 bytes),
// parent index (4), action (2), little endian.
const nodeRecord = 14

// traceFile is the trace kept on disk: one fixed-size record per stored
// state, appended in index order, so that state i's record is at offset
// i*nodeRecord and a counterexample walks its parents by reading records.
type traceFile struct {
	f       *os.File
	w       *bufio.Writer
	n       int64 // records appended
	flushed int64 // records written to the file
}

const traceName = "trace.bin"

// openTraceFile opens dir's trace file keeping its first keep records
// (0: a new, empty trace).
func openTraceFile(dir string, keep int64) (*traceFile, error) {
	f, err := os.OpenFile(filepath.Join(dir, traceName), os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrDisk, err)
	}
	if err := f.Truncate(keep * nodeRecord); err != nil {
		f.Close()
		return nil, fmt.Errorf("%w: %w", ErrDisk, err)
	}
	if _, err := f.Seek(keep*nodeRecord, io.SeekStart); err != nil {
		f.Close()
		return nil, fmt.Errorf("%w: %w", ErrDisk, err)
	}
	return &traceFile{f: f, w: bufio.NewWriterSize(f, 1<<20), n: keep, flushed: keep}, nil
}

func (t *traceFile) append(n node) error {
	var b [nodeRecord]byte
	binary.LittleEndian.PutUint64(b[0:], n.fp)
	binary.LittleEndian.PutUint32(b[8:], uint32(n.parent))
	binary.LittleEndian.PutUint16(b[12:], n.action)
	if _, err := t.w.Write(b[:]); err != nil {
		return fmt.Errorf("%w: writing the trace: %w", ErrDisk, err)
	}
	t.n++
	return nil
}

// sync writes the buffered records and makes them durable.
func (t *traceFile) sync() error {
	if err := t.w.Flush(); err != nil {
		return fmt.Errorf("%w: writing the trace: %w", ErrDisk, err)
	}
	t.flushed = t.n
	if err := t.f.Sync(); err != nil {
		return fmt.Errorf("%w: syncing the trace: %w", ErrDisk, err)
	}
	return nil
}

func (t *traceFile) get(i int32) (node, error) {
	if int64(i) >= t.flushed {
		if err := t.w.Flush(); err != nil {
			return node{}, fmt.Errorf("%w: writing the trace: %w", ErrDisk, err)
		}
		t.flushed = t.n
	}
	var b [nodeRecord]byte
	if _, err := t.f.ReadAt(b[:], int64(i)*nodeRecord); err != nil {
		return node{}, fmt.Errorf("%w: reading trace record %d: %w", ErrDisk, i, err)
	}
	return node{fp: binary.LittleEndian.Uint64(b[0:]), parent: int32(binary.LittleEndian.Uint32(b[8:])),
		action: binary.LittleEndian.Uint16(b[12:])}, nil
}

func (t *traceFile) close() error { return t.f.Close() }

// fblock is a block of a BFS level: up to chunkStates states, in memory
// (items) or compressed in the level's spill file (off, size).
type fblock struct {
	items     []frontierItem
	count     int
	off, size int64
	mem       int64 // bytes the block holds in memory
}

// level is the BFS queue of one level: blocks of chunkStates states in
// order (the blocks are the chunks the level is expanded in, so counts and
// claims are those of a flat queue). When the blocks in memory exceed the
// budget, full blocks whose states all have an encoding are written to the
// spill file (flate-compressed records: uvarint index, uvarint length,
// encoding) and read back one at a time.
type level struct {
	blocks []fblock
	n      int64
	mem    int64 // bytes of the blocks in memory
	budget int64 // 0: no spilling
	dir    string
	f      *os.File
	end    int64 // bytes written to f
	zw     *flate.Writer
	buf    bytes.Buffer
	keep   bool // f is a checkpoint's, not removed on close
	// free holds empty blocks of chunkStates items to fill before making
	// new ones (the checker's, of the level explored before; nil: none)
	free *[][]frontierItem
}

// spilledBlocks counts the blocks written to spill files (for tests).
var spilledBlocks atomic.Int64

// itemMem estimates an in-memory frontier item's bytes.
func itemMem(it frontierItem) int64 {
	m := int64(56 + len(it.enc))
	if it.state != nil {
		m += int64(16*len(it.state)) + 64
	}
	return m
}

func (l *level) push(it frontierItem) error {
	if len(l.blocks) == 0 || l.blocks[len(l.blocks)-1].count == chunkStates {
		if err := l.seal(); err != nil {
			return err
		}
		// A block explored in the level before is filled again. Else a
		// level's first block grows as it fills (doubling, to a whole
		// block that can be filled again in its turn); a level that fills
		// one is large, and its next blocks are made whole at once.
		size := chunkStates
		if len(l.blocks) == 0 {
			size = 64
		}
		l.blocks = append(l.blocks, fblock{items: takeFree(l.free, size, nil)})
	}
	b := &l.blocks[len(l.blocks)-1]
	b.items = append(growCapped(b.items, chunkStates), it)
	b.count++
	m := itemMem(it)
	b.mem += m
	l.mem += m
	l.n++
	return nil
}

// seal spills the last block if it is full and the level is over budget.
func (l *level) seal() error {
	if l.budget <= 0 || l.mem <= l.budget || len(l.blocks) == 0 {
		return nil
	}
	b := &l.blocks[len(l.blocks)-1]
	for _, it := range b.items {
		if it.enc == nil {
			return nil // a state without an encoding stays in memory
		}
	}
	if l.f == nil {
		f, err := os.CreateTemp(l.dir, "level-*.bin")
		if err != nil {
			return fmt.Errorf("%w: %w", ErrDisk, err)
		}
		l.f = f
	}
	size, err := l.writeBlock(l.f, b.items)
	if err != nil {
		return err
	}
	b.off, b.size = l.end, size
	l.end += size
	spilledBlocks.Add(1)
	l.mem -= b.mem
	b.mem, b.items = 0, nil
	return nil
}

// writeBlock compresses items to w at its current position.
func (l *level) writeBlock(w io.Writer, items []frontierItem) (int64, error) {
	l.buf.Reset()
	if l.zw == nil {
		zw, err := flate.NewWriter(&l.buf, flate.BestSpeed)
		if err != nil {
			return 0, err
		}
		l.zw = zw
	} else {
		l.zw.Reset(&l.buf)
	}
	var tmp [2 * binary.MaxVarintLen64]byte
	for _, it := range items {
		k := binary.PutUvarint(tmp[:], uint64(it.idx))
		k += binary.PutUvarint(tmp[k:], uint64(len(it.enc)))
		l.zw.Write(tmp[:k])
		l.zw.Write(it.enc)
	}
	if err := l.zw.Close(); err != nil {
		return 0, fmt.Errorf("%w: compressing a frontier block: %w", ErrDisk, err)
	}
	if _, err := w.Write(l.buf.Bytes()); err != nil {
		return 0, fmt.Errorf("%w: writing a frontier block: %w", ErrDisk, err)
	}
	return int64(l.buf.Len()), nil
}

// readBlock decodes a compressed block of count states.
func readBlock(r io.Reader, count int) ([]frontierItem, error) {
	data, err := io.ReadAll(flate.NewReader(r))
	if err != nil {
		return nil, fmt.Errorf("%w: reading a frontier block: %w", ErrDisk, err)
	}
	items := make([]frontierItem, 0, count)
	for len(data) > 0 {
		idx, k := binary.Uvarint(data)
		if k <= 0 {
			return nil, fmt.Errorf("%w: corrupt frontier block", ErrDisk)
		}
		data = data[k:]
		n, k := binary.Uvarint(data)
		if k <= 0 || uint64(len(data)-k) < n {
			return nil, fmt.Errorf("%w: corrupt frontier block", ErrDisk)
		}
		data = data[k:]
		items = append(items, frontierItem{idx: int32(idx), enc: data[:n:n]})
		data = data[n:]
	}
	if len(items) != count {
		return nil, fmt.Errorf("%w: frontier block holds %d states, want %d", ErrDisk, len(items), count)
	}
	return items, nil
}

// block returns block k's states.
func (l *level) block(k int) ([]frontierItem, error) {
	b := &l.blocks[k]
	if b.items != nil || b.count == 0 {
		return b.items, nil
	}
	return readBlock(io.NewSectionReader(l.f, b.off, b.size), b.count)
}

// release frees block k once it is explored.
func (l *level) release(k int) {
	b := &l.blocks[k]
	l.mem -= b.mem
	b.items, b.mem = nil, 0
}

// close removes the level's spill file.
func (l *level) close() {
	if l != nil && l.f != nil {
		name := l.f.Name()
		l.f.Close()
		if !l.keep {
			os.Remove(name)
		}
		l.f = nil
	}
}
