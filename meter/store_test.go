package meter

import (
	"bytes"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/verimeter/verimeter/protocol"
	"github.com/verimeter/verimeter/statemachine/journal"
	"github.com/verimeter/verimeter/statemachine/journal/crashfs"
)

// TestStoreBitFlipStopsTheMeter: one flipped bit in record 4 of the
// meter's journal (the middle of a day's intervals) stops the meter with a
// *journal.CorruptError naming record index 3, matching ErrStore, and the
// file is byte for byte what it was. Silent truncation would start a meter
// that has lost the rest of its journal: its logbook and command counter.
func TestStoreBitFlipStopsTheMeter(t *testing.T) {
	fsys := crashfs.New()
	k := newKit(t, "/m")
	k.cfg.fs = fsys
	m, err := New(k.cfg)
	if err != nil {
		t.Fatal(err)
	}
	measureDay(t, m, 20000)
	k.agree(t, m)
	if r := k.command(t, m, protocol.Command{Counter: 5, Kind: protocol.CmdTariff, Tariff: 2}); r.Status != protocol.StatusOK {
		t.Fatalf("tariff: %+v", r)
	}
	recs := m.store.Records()
	m.Close()
	path := filepath.Join("/m", "meter.log")
	orig, _ := fsys.ReadFile(path)
	bad := bytes.Clone(orig)
	bad[recs[3].Offset+20] ^= 0x04
	fsys.WriteFile(path, bad)
	_, err = New(k.cfg)
	var ce *journal.CorruptError
	if !errors.As(err, &ce) || !errors.Is(err, ErrStore) || !errors.Is(err, journal.ErrCorrupt) || ce.Record != 3 || ce.Offset != recs[3].Offset {
		t.Fatalf("a meter on a journal with a flipped bit in record 4: %v", err)
	}
	if after, _ := fsys.ReadFile(path); !bytes.Equal(after, bad) {
		t.Fatal("the meter changed its corrupt journal")
	}
	if !strings.Contains(err.Error(), "record 3 at offset") {
		t.Fatalf("the error does not name the record: %v", err)
	}
}

// TestStoreTornTailIsReported: power lost during the last append leaves
// half a record; the meter starts, cuts it, and reports the cut.
func TestStoreTornTailIsReported(t *testing.T) {
	fsys := crashfs.New()
	k := newKit(t, "/m")
	k.cfg.fs = fsys
	m, err := New(k.cfg)
	if err != nil {
		t.Fatal(err)
	}
	measureDay(t, m, 20000)
	reg := m.importRegister()
	m.Close()
	path := filepath.Join("/m", "meter.log")
	orig, _ := fsys.ReadFile(path)
	fsys.WriteFile(path, append(bytes.Clone(orig), 0, 0, 0, 14, 0, 0, 0, 0, 0, 0, 0, 99, 1, 7, 7))
	m, err = New(k.cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	r := m.StoreReport()
	if r.TornBytes != 15 || r.TornRecords != 1 || m.importRegister() != reg || len(m.Day(20000)) != 96 {
		t.Fatalf("torn tail: report %+v, register %d of %d", r, m.importRegister(), reg)
	}
	if !strings.Contains(r.String(), "torn tail cut: 15 bytes") {
		t.Fatalf("report line: %s", r)
	}
}

// TestStoreCompactionBoundsTheJournal: 300 days of measuring with every
// block handed out and acknowledged by the head-end: the journal stays within its bound, and a restart
// after many compactions has the same register, the same recent blocks and
// signs the next day's block with the right register reading.
func TestStoreCompactionBoundsTheJournal(t *testing.T) {
	fsys := crashfs.New()
	k := newKit(t, "/m")
	k.cfg.fs = fsys
	m, err := New(k.cfg)
	if err != nil {
		t.Fatal(err)
	}
	k.agree(t, m)
	var peak int64
	var last []byte
	for d := int64(20000); d < 20300; d++ {
		measureDay(t, m, d)
		r := k.ask(t, m, protocol.TagCommand, protocol.PDU{Kind: protocol.PDUGetBlock, Day: d})
		if r.Kind != protocol.PDUData {
			t.Fatalf("day %d: %+v", d, r)
		}
		last = r.Body
		_, ctr, err := protocol.PeekData(r.Body, true)
		if err != nil {
			t.Fatal(err)
		}
		if a := k.ask(t, m, protocol.TagCommand, k.dataAckPDU(t, k.heKey, m, ctr, r.Body)); a.Kind != protocol.PDUResult || a.Status != protocol.StatusOK {
			t.Fatalf("ack of day %d: %+v", d, a)
		}
		peak = max(peak, m.store.Size())
	}
	if err := m.store.CompactErr(); err != nil {
		t.Fatal(err)
	}
	// Live: 31 blocks and the newest day; a day's records and a block are
	// appended between two checks.
	blockLen := int64(len(last)+17+21) + 8 + 21 // the taken record and its ack
	bound := max(storeCompactMin, 2*(blockRetention*blockLen+96*35+4096)) + 96*35 + blockLen
	if peak > bound {
		t.Fatalf("journal grew to %d bytes, bound %d", peak, bound)
	}
	reg := m.importRegister()
	m.Close()
	m, err = New(k.cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	if m.importRegister() != reg || !bytes.Equal(m.blocks[20299], last) || m.blocks[20000] != nil {
		t.Fatalf("after compactions: register %d of %d, %d blocks kept (the first day's too)", m.importRegister(), reg, len(m.blocks))
	}
	measureDay(t, m, 20300)
	k.agree(t, m)
	r := k.ask(t, m, protocol.TagCommand, protocol.PDU{Kind: protocol.PDUGetBlock, Day: 20300})
	blk, err := protocol.UnmarshalSignedBlock(r.Body)
	if err != nil {
		t.Fatal(err)
	}
	h, err := k.verifier.VerifyBlock(blk)
	if err != nil || h.Register != m.importRegister() {
		t.Fatalf("block after compactions: %v, register %d, meter %d", err, h.Register, m.importRegister())
	}
	t.Logf("300 days: journal peak %d bytes (bound %d), %d bytes now", peak, bound, m.store.Size())
}

// TestStoreDiskFullAndReadOnly: with the journal's disk full (ENOSPC) or
// read-only (EROFS) the meter measures nothing it cannot keep, hands out no
// block and runs no command or install it could not journal, each with an
// error matching ErrStore and the cause; when space returns it does all of
// it, and a restart shows exactly that.
func TestStoreDiskFullAndReadOnly(t *testing.T) {
	for _, errno := range []syscall.Errno{syscall.ENOSPC, syscall.EROFS} {
		t.Run(errno.Error(), func(t *testing.T) {
			fsys := crashfs.New()
			var fail error
			fsys.Fail = func(kind crashfs.OpKind, name string) error {
				if fail != nil && strings.HasSuffix(name, "meter.log") {
					return fail
				}
				return nil
			}
			k := newKit(t, "/m")
			k.cfg.fs = fsys
			m, err := New(k.cfg)
			if err != nil {
				t.Fatal(err)
			}
			measureDay(t, m, 20000)
			k.agree(t, m)
			fail = errno
			if _, err := m.Measure(20001, 0); !errors.Is(err, ErrStore) || !errors.Is(err, errno) || len(m.Day(20001)) != 0 {
				t.Fatalf("measure on a failing disk: %v, %d intervals", err, len(m.Day(20001)))
			}
			if r := k.ask(t, m, protocol.TagCommand, protocol.PDU{Kind: protocol.PDUGetBlock, Day: 20000}); r.Kind == protocol.PDUData || !strings.Contains(r.Detail, errno.Error()) || m.blocks[20000] != nil {
				t.Fatalf("block handed out that could not be journaled: %+v", r)
			}
			if r := k.command(t, m, protocol.Command{Counter: 5, Kind: protocol.CmdTariff, Tariff: 2}); r.Status == protocol.StatusOK || m.tariff != 0 || m.cmds.State.Last != 0 {
				t.Fatalf("command ran that could not be journaled: %+v, last %d", r, m.cmds.State.Last)
			}
			lr, other := []byte("lr v5"), []byte("comm v5")
			man := protocol.Manifest{Model: "VM-E3", Version: 5, SecurityVersion: 3, LR: protocol.NewComponent(lr), Other: protocol.NewComponent(other), Issued: 1}
			if r := k.install(t, m, 1, man, append(bytes.Clone(lr), other...), k.man, k.auth); r.Status == protocol.StatusOK || m.core.Version() != 4 || len(m.core.Logbook()) != 0 {
				t.Fatalf("install without a logbook entry: %+v", r)
			}
			fail = nil
			if _, err := m.Measure(20001, 0); err != nil {
				t.Fatal(err)
			}
			r := k.ask(t, m, protocol.TagCommand, protocol.PDU{Kind: protocol.PDUGetBlock, Day: 20000})
			if r.Kind != protocol.PDUData {
				t.Fatalf("block after space returned: %+v", r)
			}
			if r := k.command(t, m, protocol.Command{Counter: 5, Kind: protocol.CmdTariff, Tariff: 2}); r.Status != protocol.StatusOK || m.tariff != 2 {
				t.Fatalf("command after space returned: %+v", r)
			}
			if r := k.install(t, m, 2, man, append(bytes.Clone(lr), other...), k.man, k.auth); r.Status != protocol.StatusOK || m.core.Version() != 5 {
				t.Fatalf("install after space returned: %+v", r)
			}
			m.Close()
			m, err = New(k.cfg)
			if err != nil {
				t.Fatal(err)
			}
			defer m.Close()
			if !bytes.Equal(m.blocks[20000], r.Body) && m.blocks[20000] == nil || m.tariff != 2 || m.cmds.State.Last != 5 || m.core.Version() != 5 || len(m.core.Logbook()) != 1 || len(m.Day(20001)) != 1 {
				t.Fatalf("after restart: tariff %d, last command %d, v%d, logbook %d, %d intervals", m.tariff, m.cmds.State.Last, m.core.Version(), len(m.core.Logbook()), len(m.Day(20001)))
			}
			if m.StoreReport().TornBytes != 0 {
				t.Fatalf("the failed writes left a tail: %s", m.StoreReport())
			}
		})
	}
}

// meterAck is what the meter had acknowledged once a given number of
// filesystem operations were done: it must all survive a crash after them.
type meterAck struct {
	at      int    // operations recorded when the answer left the meter
	day     int64  // with block: a signed block handed out for day
	block   []byte //
	cmd     int64  // highest command counter run
	send    uint64 // the meter's next channel counter
	data    uint64 // highest signed-data counter handed out
	logbook int    // logbook entries
	version uint32 // installed and confirmed version
}

// TestCrashPointsMeter records every durable step of a meter (journal,
// compaction and counter file) through a day or more of measuring, block
// requests, commands and firmware installs, and restarts the meter from
// the state a crash after each step leaves, with the last unsynced write
// whole, torn, zero-filled or dropped. After every restart: the meter
// starts (a crash never looks like corruption), every block it handed out
// (within blockRetention days) is there unchanged, no command it ran can run again, its channel and
// signed-data counters continue above every one it used, every install is
// complete or rolled back (the active slot image verifies and its software
// ID, computed from it, is the one the logbook's last install names: never
// neither image) and every attempt that made a durable write is in the
// logbook, refused, rolled back and installed ones alike.
// CRASHPOINTS=full runs more days (make crashpoints).
func TestCrashPointsMeter(t *testing.T) {
	days := 1
	if crashfs.Full() {
		days = 35 // beyond blockRetention: compactions drop old blocks
	}
	fsys := crashfs.New()
	k := newKit(t, "/m")
	k.cfg.fs = fsys
	k.cfg.LogbookCapacity = 3 * days // three install attempts a day
	fsys.Record()
	initial := fsys.Snapshot()
	m, err := New(k.cfg)
	if err != nil {
		t.Fatal(err)
	}
	var acks []meterAck
	cur := meterAck{version: 4}
	note := func() {
		cur.at, cur.send = len(fsys.Ops()), uint64(m.ch.machine.State.Next)
		acks = append(acks, cur)
		cur.block = nil
	}
	k.agree(t, m)
	other := []byte("comm v5")
	var attemptAt []int // operations recorded when each install attempt began
	// effects are the tariff and breaker each command counter left: a
	// restart must show the effects of exactly the commands it counts.
	type effect struct {
		tariff  uint8
		breaker breaker
	}
	effects := map[int64]effect{0: {}}
	var closedAt []int // operations recorded when the customer closed the breaker
	for d := range days {
		day := int64(20000 + d)
		for i := range 96 {
			if _, err := m.Measure(day, i); err != nil {
				t.Fatal(err)
			}
			if i == 47 {
				// An on-demand reading while the morning's intervals are
				// not yet synced: its counter reservations are durable
				// writes to the other file after unsynced ones.
				r := k.ask(t, m, protocol.TagCommand, protocol.PDU{Kind: protocol.PDUGetReading})
				rd, err := k.verifier.VerifyReading(r.Body)
				if err != nil {
					t.Fatal(err)
				}
				cur.data = max(cur.data, rd.Counter)
				note()
			}
		}
		r := k.ask(t, m, protocol.TagCommand, protocol.PDU{Kind: protocol.PDUGetBlock, Day: day})
		if r.Kind != protocol.PDUData {
			t.Fatalf("block: %+v", r)
		}
		blk, _ := protocol.UnmarshalSignedBlock(r.Body)
		h, _ := k.verifier.VerifyBlock(blk)
		cur.day, cur.block, cur.data = day, r.Body, max(cur.data, h.Counter)
		note()
		// A tariff, a disconnect and a reconnect (which only arms the
		// breaker) a day; the customer closes it before the next day.
		for i, c := range []protocol.Command{{Kind: protocol.CmdTariff, Tariff: uint8(1 + d%3)}, {Kind: protocol.CmdDisconnect}, {Kind: protocol.CmdReconnect}} {
			c.Counter = uint64(5 + 3*d + i)
			if r := k.command(t, m, c); r.Status != protocol.StatusOK {
				t.Fatalf("command: %+v", r)
			}
			cur.cmd = int64(c.Counter)
			effects[cur.cmd] = effect{m.tariff, m.breakerState()}
			note()
		}
		if err := m.closeBreaker(); err != nil {
			t.Fatal(err)
		}
		closedAt = append(closedAt, len(fsys.Ops()))
		// Three attempts a day: refused (one signature), rolled back
		// (self-test), installed. Each is in the logbook from its first
		// durable write on, whatever crash follows.
		v := uint32(5 + d)
		lrv := []byte(fmt.Sprintf("lr v%d", v))
		man := protocol.Manifest{Model: "VM-E3", Version: v, SecurityVersion: 3, LR: protocol.NewComponent(lrv), Other: protocol.NewComponent(other), Issued: 1}
		for a, signers := range [][]protocol.ManifestSigner{{k.man}, {k.man, k.auth}, {k.man, k.auth}} {
			m.core.selfTest = nil
			if a == 1 {
				m.core.selfTest = func([]byte) error { return errors.New("calibration table checksum") }
			}
			attemptAt = append(attemptAt, len(fsys.Ops()))
			r = k.install(t, m, uint32(3*d+a+1), man, append(bytes.Clone(lrv), other...), signers...)
			if ok := r.Status == protocol.StatusOK; ok != (a == 2) {
				t.Fatalf("install attempt %d of v%d: %+v", a, v, r)
			}
			if a == 2 {
				cur.version = v
			}
			cur.logbook++
			note()
		}
		if err := m.store.Compact(); err != nil {
			t.Fatal(err)
		}
		note()
	}
	m.Close()
	ops := fsys.Ops()
	res := crashfs.Replay(initial, ops, func(fs *crashfs.MemFS, k2 int) error {
		cfg := k.cfg
		cfg.fs = fs
		m2, err := New(cfg)
		if err != nil {
			return fmt.Errorf("the meter does not start: %w", err)
		}
		defer m2.Close()
		// A command counted has its effect, and an effect its command
		// counted (the breaker may also be closed by the customer after a
		// reconnect armed it).
		want, got := effects[m2.cmds.State.Last], effect{m2.tariff, m2.breakerState()}
		if got != want && (want.breaker != breakerArmed || got != effect{want.tariff, breakerClosed}) {
			return fmt.Errorf("tariff T%d, breaker %s after command %d ran; want T%d, %s", got.tariff, got.breaker, m2.cmds.State.Last, want.tariff, want.breaker)
		}
		// A breaker the customer closed stays closed.
		for d, at := range closedAt {
			if at <= k2 && m2.cmds.State.Last == int64(5+3*d+2) && m2.breakerState() != breakerClosed {
				return fmt.Errorf("the customer closed the breaker, after a restart it is %s", m2.breakerState())
			}
		}
		if m2.core.fw.Attempt != nil {
			return errors.New("an install is still on trial")
		}
		version, id := uint32(4), softwareID(k.cfg.Factory.LR)
		for _, e := range m2.core.Logbook() {
			if e.Event == "installed" {
				version, id = e.NewVersion, e.NewID
			}
		}
		if m2.core.Version() != version || m2.core.SoftwareID() != id || m2.core.SoftwareID() != softwareID([]byte(fmt.Sprintf("lr v%d", version))) && version != 4 {
			return fmt.Errorf("v%d %s active, the logbook says v%d %s", m2.core.Version(), m2.core.SoftwareID(), version, id)
		}
		// An attempt that made a durable write (its refusal, its recorded
		// start, its slot image) is in the logbook. The channel's counter
		// reservations are not the attempt's.
		started := 0
		for _, at := range attemptAt {
			for i := at; i < k2; i++ {
				if ops[i].Kind == crashfs.OpSync && ops[i].Name != "/m/counters" {
					started++
					break
				}
			}
		}
		if len(m2.core.Logbook()) < started {
			return fmt.Errorf("%d install attempts made a durable write, %d in the logbook", started, len(m2.core.Logbook()))
		}
		reserved, _ := m2.counters.Reserved(k.keyID)
		newest := int64(0)
		for _, a := range acks {
			if a.at <= k2 && a.block != nil {
				newest = a.day
			}
		}
		for _, a := range acks {
			if a.at > k2 {
				break
			}
			// A block is kept for blockRetention days after the newest one.
			if a.block != nil && a.day > newest-blockRetention && !bytes.Equal(m2.blocks[a.day], a.block) {
				return fmt.Errorf("the block of day %d handed out is lost or changed", a.day)
			}
			if m2.cmds.State.Last < a.cmd {
				return fmt.Errorf("command %d ran, the meter's counter is %d after restart", a.cmd, m2.cmds.State.Last)
			}
			if reserved < a.send {
				return fmt.Errorf("channel counter %d used, %d reserved after restart", a.send, reserved)
			}
			if next := m2.ch.machine.State.Next; next < int64(a.send) {
				return fmt.Errorf("channel counter %d used, the Channel machine restarts at %d", a.send, next)
			}
			if m2.coll.m.State.Taken < int64(a.data) {
				return fmt.Errorf("signed-data counter %d used, restarts at %d", a.data, m2.coll.m.State.Taken+1)
			}
			if len(m2.core.Logbook()) < a.logbook || m2.core.Version() < a.version {
				return fmt.Errorf("logbook %d entries and v%d after restart, %d and v%d acknowledged", len(m2.core.Logbook()), m2.core.Version(), a.logbook, a.version)
			}
		}
		return nil
	})
	res.Report(t, "meter", ops, 100)
}

// TestStoreCompactionKeepsTheLiveState: after a compaction and a restart
// the meter has the same register, tariff, last command, firmware, floor,
// logbook (every entry), recent blocks and the intervals of the day whose
// block was not handed out yet, and the register reading of its next block
// is exact.
func TestStoreCompactionKeepsTheLiveState(t *testing.T) {
	fsys := crashfs.New()
	k := newKit(t, "/m")
	k.cfg.fs = fsys
	m, err := New(k.cfg)
	if err != nil {
		t.Fatal(err)
	}
	k.agree(t, m)
	lr, other := []byte("lr v5"), []byte("comm v5")
	man := protocol.Manifest{Model: "VM-E3", Version: 5, SecurityVersion: 3, LR: protocol.NewComponent(lr), Other: protocol.NewComponent(other), Issued: 1}
	k.install(t, m, 1, man, append(bytes.Clone(lr), other...), k.man) // rejected: one signature
	k.install(t, m, 2, man, append(bytes.Clone(lr), other...), k.man, k.auth)
	for d := int64(20000); d < 20004; d++ {
		measureDay(t, m, d)
		if d < 20002 {
			k.ask(t, m, protocol.TagCommand, protocol.PDU{Kind: protocol.PDUGetBlock, Day: d})
		}
		k.command(t, m, protocol.Command{Counter: uint64(d - 19990), Kind: protocol.CmdTariff, Tariff: uint8(d % 4)})
	}
	k.command(t, m, protocol.Command{Counter: 14, Kind: protocol.CmdClockSet, ClockStep: 30})
	k.command(t, m, protocol.Command{Counter: 15, Kind: protocol.CmdDisconnect})
	k.command(t, m, protocol.Command{Counter: 16, Kind: protocol.CmdTariff, Tariff: 1})
	if m.breakerState() != breakerOpen || m.clockOffset() != 30 || m.cmds.State.Last != 16 {
		t.Fatalf("before the compaction: breaker %s, clock %+d, last %d", m.breakerState(), m.clockOffset(), m.cmds.State.Last)
	}
	before := fmt.Sprint(m.breakerState(), m.clockOffset(), m.importRegister(), m.tariff, m.cmds.State.Last, m.core.Version(), m.core.securityFloor(), m.core.Logbook(), m.blocks, m.Day(20002), m.registerAtEnd(20003))
	n := len(m.store.Records())
	if err := m.store.Compact(); err != nil {
		t.Fatal(err)
	}
	if len(m.store.Records()) >= n {
		t.Fatalf("compaction kept %d of %d records", len(m.store.Records()), n)
	}
	m.Close()
	m, err = New(k.cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	after := fmt.Sprint(m.breakerState(), m.clockOffset(), m.importRegister(), m.tariff, m.cmds.State.Last, m.core.Version(), m.core.securityFloor(), m.core.Logbook(), m.blocks, m.Day(20002), m.registerAtEnd(20003))
	if before != after {
		t.Fatalf("compaction changed the state:\n%.300s\n%.300s", before, after)
	}
}

// TestDescribeRecordNamesEveryKind: every record a meter writes (and a
// compaction's register record) has a name and a decoded summary for
// verimeter journal dump.
func TestDescribeRecordNamesEveryKind(t *testing.T) {
	fsys := crashfs.New()
	k := newKit(t, "/m")
	k.cfg.fs = fsys
	m, err := New(k.cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	k.agree(t, m)
	measureDay(t, m, 20000)
	measureDay(t, m, 20001)
	k.ask(t, m, protocol.TagCommand, protocol.PDU{Kind: protocol.PDUGetBlock, Day: 20000})
	k.command(t, m, protocol.Command{Counter: 5, Kind: protocol.CmdTariff, Tariff: 2})
	k.command(t, m, protocol.Command{Counter: 6, Kind: protocol.CmdDisconnect})
	k.command(t, m, protocol.Command{Counter: 7, Kind: protocol.CmdClockSet, ClockStep: -10})
	if r := k.command(t, m, protocol.Command{Counter: 8, Kind: protocol.CmdKeyRotation}); r.Status != protocol.StatusOK {
		t.Fatalf("key rotation: %+v", r)
	}
	lr, other := []byte("lr v5"), []byte("comm v5")
	k.install(t, m, 1, protocol.Manifest{Model: "VM-E3", Version: 5, SecurityVersion: 3, LR: protocol.NewComponent(lr), Other: protocol.NewComponent(other), Issued: 1}, append(bytes.Clone(lr), other...), k.man, k.auth)
	if _, err := m.Tamper(protocol.TamperCover, time.Unix(1, 0)); err != nil {
		t.Fatal(err)
	}
	if err := m.store.Compact(); err != nil {
		t.Fatal(err)
	}
	kinds := map[string]string{}
	for _, r := range m.store.Records() {
		name, summary := DescribeRecord(r.Kind, r.Data)
		if name == "" || summary == "" || summary == "malformed" {
			t.Fatalf("record %d kind %d: %q %q", r.Seq, r.Kind, name, summary)
		}
		kinds[name] = summary
	}
	if len(kinds) != 11 || kinds["tamper"] != "1 events detected, 1 unacknowledged" || kinds["tariff"] != "T2 by command 5" || kinds["command"] != "last counter 8" || kinds["breaker"] != "open by command 6" || kinds["clock"] != "offset -10 s by command 7" || kinds["register"] != "days up to 20000 folded: "+fmt.Sprint(m.registerAtEnd(20000))+" Wh" {
		t.Fatalf("kinds: %v", kinds)
	}
	if n, _ := DescribeRecord(99, nil); n != "" {
		t.Fatalf("unknown kind named %q", n)
	}
}
