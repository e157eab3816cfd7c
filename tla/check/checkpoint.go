package check

import (
	"bufio"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
)

// ErrCheckpoint is returned when a checkpoint cannot be written or a run
// cannot resume from one (missing, corrupt, or of another model).
var ErrCheckpoint = errors.New("check: checkpoint")

const (
	cpDir      = "checkpoint"
	cpTmp      = "checkpoint.tmp"
	cpOld      = "checkpoint.old"
	cpMeta     = "meta.json"
	cpFPs      = "fps.bin"
	cpFrontier = "frontier.bin"
)

// cpBlock is a frontier block in the checkpoint's frontier file.
type cpBlock struct {
	Count int   `json:"count"`
	Size  int64 `json:"size"`
}

// cpFormat is the version of the checkpoint's contents: the fingerprints
// in fps.bin are the hashes of this build's values, and a build that
// hashes values otherwise cannot resume from them (it would find every
// stored state new). 2: functions hashed as sets of entries.
const cpFormat = 2

// cpMetaData is a checkpoint's counters and layout, written last.
type cpMetaData struct {
	Format    int       `json:"format"`
	Variables []string  `json:"variables"`
	Actions   []string  `json:"actions"`
	Distinct  int64     `json:"distinct"`
	Generated int64     `json:"generated"`
	Depth     int       `json:"depth"`
	Trace     int64     `json:"trace_records"`
	Claims    bool      `json:"claims"` // fps.bin holds claim slots (16 bytes), else FPSet slots (8)
	Slots     int       `json:"slots"`
	Used      int64     `json:"used"`
	Blocks    []cpBlock `json:"blocks"`
}

// checkpointable reports why the run cannot checkpoint or recover, if so.
func (c *checker) checkpointable() error {
	switch {
	case c.opts.MetaDir == "":
		return fmt.Errorf("%w: needs a directory (MetaDir)", ErrCheckpoint)
	case c.exact != nil:
		return fmt.Errorf("%w: not in exact mode", ErrCheckpoint)
	case c.p.live:
		return fmt.Errorf("%w: not with temporal properties (their graph is kept in memory)", ErrCheckpoint)
	case c.opts.Coverage:
		return fmt.Errorf("%w: not with coverage", ErrCheckpoint)
	}
	return nil
}

// maybeCheckpoint writes a checkpoint between two levels when the interval
// has passed since the last one (or the run's start).
func (c *checker) maybeCheckpoint(frontier *level) error {
	if c.opts.Checkpoint <= 0 || frontier.n == 0 {
		return nil
	}
	now := c.opts.Now()
	if now.Sub(c.lastCP) < c.opts.Checkpoint {
		return nil
	}
	if err := c.writeCheckpoint(frontier); err != nil {
		return err
	}
	c.lastCP = c.opts.Now()
	c.res.Checkpoints++
	return nil
}

// writeCheckpoint writes the fingerprint table, the frontier, the trace's
// length and the counters to MetaDir/checkpoint.tmp, syncs them and renames
// the directory to MetaDir/checkpoint: a kill at any moment leaves a
// complete checkpoint (the new or the previous one).
func (c *checker) writeCheckpoint(frontier *level) error {
	if err := c.checkpointable(); err != nil {
		return err
	}
	tmp := filepath.Join(c.opts.MetaDir, cpTmp)
	if err := os.RemoveAll(tmp); err != nil {
		return fmt.Errorf("%w: %w", ErrCheckpoint, err)
	}
	if err := os.Mkdir(tmp, 0o755); err != nil {
		return fmt.Errorf("%w: %w", ErrCheckpoint, err)
	}
	if err := c.tfile.sync(); err != nil {
		return err
	}
	meta := cpMetaData{Format: cpFormat, Variables: c.vars, Actions: c.actions, Distinct: c.res.Distinct, Generated: c.res.Generated,
		Depth: c.res.Depth, Trace: c.tfile.n}
	err := writeSynced(filepath.Join(tmp, cpFPs), func(w io.Writer) error {
		var b [16]byte
		if c.claims != nil {
			meta.Claims, meta.Slots, meta.Used = true, len(c.claims.slots), c.claims.n.Load()
			for _, sl := range c.claims.slots {
				binary.LittleEndian.PutUint64(b[0:], sl.fp)
				binary.LittleEndian.PutUint64(b[8:], sl.key)
				if _, err := w.Write(b[:16]); err != nil {
					return err
				}
			}
			return nil
		}
		meta.Slots, meta.Used = len(c.seen.slots), int64(c.seen.n)
		for _, fp := range c.seen.slots {
			binary.LittleEndian.PutUint64(b[0:], fp)
			if _, err := w.Write(b[:8]); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return err
	}
	err = writeSynced(filepath.Join(tmp, cpFrontier), func(w io.Writer) error {
		var sc scratch
		for k := range frontier.blocks {
			b := &frontier.blocks[k]
			var size int64
			if b.items == nil && b.count > 0 {
				n, err := io.Copy(w, io.NewSectionReader(frontier.f, b.off, b.size))
				if err != nil {
					return err
				}
				size = n
			} else {
				items := make([]frontierItem, len(b.items))
				for i, it := range b.items {
					items[i] = it
					if it.enc == nil {
						if items[i].enc = sc.encode(it.state); items[i].enc == nil {
							return fmt.Errorf("a state of the queue has no encoding")
						}
					}
				}
				n, err := frontier.writeBlock(w, items)
				if err != nil {
					return err
				}
				size = n
			}
			meta.Blocks = append(meta.Blocks, cpBlock{Count: b.count, Size: size})
		}
		return nil
	})
	if err != nil {
		return err
	}
	err = writeSynced(filepath.Join(tmp, cpMeta), func(w io.Writer) error {
		return json.NewEncoder(w).Encode(meta)
	})
	if err != nil {
		return err
	}
	if err := syncDir(tmp); err != nil {
		return err
	}
	dir, old := filepath.Join(c.opts.MetaDir, cpDir), filepath.Join(c.opts.MetaDir, cpOld)
	if err := os.RemoveAll(old); err != nil {
		return fmt.Errorf("%w: %w", ErrCheckpoint, err)
	}
	if err := os.Rename(dir, old); err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("%w: %w", ErrCheckpoint, err)
	}
	if err := os.Rename(tmp, dir); err != nil {
		return fmt.Errorf("%w: %w", ErrCheckpoint, err)
	}
	if err := syncDir(c.opts.MetaDir); err != nil {
		return err
	}
	if err := os.RemoveAll(old); err != nil {
		return fmt.Errorf("%w: %w", ErrCheckpoint, err)
	}
	return nil
}

// writeSynced writes a file through a buffer and syncs it.
func writeSynced(path string, write func(io.Writer) error) error {
	f, err := os.Create(path)
	if err != nil {
		return fmt.Errorf("%w: %w", ErrCheckpoint, err)
	}
	w := bufio.NewWriterSize(f, 1<<20)
	err = write(w)
	if err == nil {
		err = w.Flush()
	}
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("%w: writing %s: %w", ErrCheckpoint, filepath.Base(path), err)
	}
	return nil
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return fmt.Errorf("%w: %w", ErrCheckpoint, err)
	}
	defer d.Close()
	if err := d.Sync(); err != nil {
		return fmt.Errorf("%w: syncing %s: %w", ErrCheckpoint, dir, err)
	}
	return nil
}

// recover loads MetaDir's checkpoint (or the previous one, if a kill came
// between the two renames) and returns the level to explore next.
func (c *checker) recover() (*level, error) {
	if err := c.checkpointable(); err != nil {
		return nil, err
	}
	dir := filepath.Join(c.opts.MetaDir, cpDir)
	if _, err := os.Stat(filepath.Join(dir, cpMeta)); err != nil {
		dir = filepath.Join(c.opts.MetaDir, cpOld)
	}
	raw, err := os.ReadFile(filepath.Join(dir, cpMeta))
	if err != nil {
		return nil, fmt.Errorf("%w: no checkpoint in %s: %w", ErrCheckpoint, c.opts.MetaDir, err)
	}
	var meta cpMetaData
	if err := json.Unmarshal(raw, &meta); err != nil {
		return nil, fmt.Errorf("%w: %s: %w", ErrCheckpoint, cpMeta, err)
	}
	if meta.Format != cpFormat {
		return nil, fmt.Errorf("%w: written by another version of the checker (format %d, not %d): its fingerprints are not this one's", ErrCheckpoint, meta.Format, cpFormat)
	}
	if !slices.Equal(meta.Variables, c.vars) {
		return nil, fmt.Errorf("%w: of another model (variables %v, not %v)", ErrCheckpoint, meta.Variables, c.vars)
	}
	if meta.Claims != (c.claims != nil) || meta.Slots <= 0 || meta.Slots&(meta.Slots-1) != 0 {
		return nil, fmt.Errorf("%w: of another configuration (fingerprint table)", ErrCheckpoint)
	}
	// Action names: the checkpoint's numbering, which extends ours.
	for i, name := range meta.Actions {
		if i < len(c.actions) && c.actions[i] != name {
			return nil, fmt.Errorf("%w: of another model (action %d is %s, not %s)", ErrCheckpoint, i, name, c.actions[i])
		}
		if i >= len(c.actions) {
			c.actionID(name)
		}
	}
	if err := c.loadFPs(filepath.Join(dir, cpFPs), meta); err != nil {
		return nil, err
	}
	tf, err := openTraceFile(c.opts.MetaDir, meta.Trace)
	if err != nil {
		return nil, err
	}
	c.tfile = tf
	c.res.Distinct, c.res.Generated, c.res.Depth = meta.Distinct, meta.Generated, meta.Depth
	if meta.Trace != meta.Distinct {
		return nil, fmt.Errorf("%w: %d trace records for %d states", ErrCheckpoint, meta.Trace, meta.Distinct)
	}
	// The frontier is read from the checkpoint's file, which stays
	// readable while open even once a newer checkpoint replaces it.
	f, err := os.Open(filepath.Join(dir, cpFrontier))
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrCheckpoint, err)
	}
	l := c.newLevel()
	l.f, l.keep = f, true
	for _, b := range meta.Blocks {
		l.blocks = append(l.blocks, fblock{count: b.Count, off: l.end, size: b.Size})
		l.end += b.Size
		l.n += int64(b.Count)
	}
	return l, nil
}

func (c *checker) loadFPs(path string, meta cpMetaData) error {
	f, err := os.Open(path)
	if err != nil {
		return fmt.Errorf("%w: %w", ErrCheckpoint, err)
	}
	defer f.Close()
	// The run's empty tables, possibly sized by FPMem, are dropped before
	// the checkpoint's is allocated, so memory does not hold both.
	if c.claims != nil {
		c.claims.slots = nil
	}
	c.seen.slots = nil
	r := bufio.NewReaderSize(f, 1<<20)
	var b [16]byte
	if meta.Claims {
		t := newClaimTable(meta.Slots)
		for i := range t.slots {
			if _, err := io.ReadFull(r, b[:16]); err != nil {
				return fmt.Errorf("%w: %s: %w", ErrCheckpoint, cpFPs, err)
			}
			t.slots[i] = claimSlot{binary.LittleEndian.Uint64(b[0:]), binary.LittleEndian.Uint64(b[8:])}
		}
		t.n.Store(meta.Used)
		c.claims = t
		return nil
	}
	s := &FPSet{slots: make([]uint64, meta.Slots), mask: uint64(meta.Slots - 1), n: int(meta.Used)}
	for i := range s.slots {
		if _, err := io.ReadFull(r, b[:8]); err != nil {
			return fmt.Errorf("%w: %s: %w", ErrCheckpoint, cpFPs, err)
		}
		s.slots[i] = binary.LittleEndian.Uint64(b[:8])
	}
	c.seen = s
	return nil
}
