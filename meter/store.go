package meter

import (
	"encoding/binary"
	"encoding/json"
	"fmt"
	"sort"

	"github.com/verimeter/verimeter/protocol"
	"github.com/verimeter/verimeter/statemachine/journal"
)

// ErrStore marks a failure of the meter's persistent store. A corrupt store
// (journal.ErrCorrupt, a *journal.CorruptError naming the record) matches
// it too: the meter does not start on it.
var ErrStore = journal.ErrJournal

// Store is the meter's persistent state: a journal of the records below.
type Store = journal.Journal

// storeCompactMin is the size below which the meter's journal is never
// compacted; above it, it is compacted when it exceeds twice its live
// records (journal.Options).
const storeCompactMin = 256 << 10

// blockRetention is how many days back from the newest measured day the
// meter keeps the signed blocks it handed out, so that a repeated request
// gets the same block (same counter) and not a second version.
const blockRetention = 31

// OpenStore opens the meter's journal ("" keeps it in memory) on the
// operating system's filesystem.
func OpenStore(path string) (*Store, error) { return openStoreFS(nil, path) }

// openStoreFS opens the meter's journal through fsys (nil: the operating
// system's), compacted by the meter's live records (liveRecords). A torn
// tail is cut and reported (Store.Report); a corrupt journal is a
// *journal.CorruptError.
func openStoreFS(fsys journal.FS, path string) (*Store, error) {
	return journal.OpenWith(path, journal.Options{FS: fsys, Live: liveRecords, CompactMin: storeCompactMin})
}

// Record kinds of the store.
const (
	recInterval byte = 1  // one measured interval (day, index, Wh)
	recLogbook  byte = 2  // one WELMEC 7.2 logbook entry
	recCommand  byte = 3  // the counter of the last executed command
	recFirmware byte = 4  // the slots and the active one
	recFloor    byte = 5  // the committed security-version floor
	recTariff   byte = 6  // the active tariff
	recBlock    byte = 7  // a signed load-profile block handed out (day, bytes)
	recRegister byte = 8  // compaction snapshot: the last folded day and the Wh of every folded interval
	recBreaker  byte = 9  // the breaker state and the counter of the command that set it
	recClock    byte = 10 // the clock offset and the counter of the clock-set command that set it
	recTamper   byte = 13 // the tamper log: event counter and the signed events not yet acknowledged (tamper.go)
	recTrust    byte = 14 // the counter of the command that installed it (8), then the signed trust list
)

// DescribeRecord names a record of the meter's store and summarises its
// data in a few words (verimeter journal dump); an unknown kind has an
// empty name.
func DescribeRecord(kind byte, b []byte) (name, summary string) {
	switch kind {
	case recInterval:
		if len(b) == 14 {
			return "interval", fmt.Sprintf("day %d index %d %d Wh", int64(binary.BigEndian.Uint64(b)), binary.BigEndian.Uint16(b[8:]), binary.BigEndian.Uint32(b[10:]))
		}
		return "interval", "malformed"
	case recLogbook:
		var e LogEntry
		if json.Unmarshal(b, &e) != nil {
			return "logbook", "malformed"
		}
		return "logbook", fmt.Sprintf("seq %d %s v%d->v%d by %q", e.Seq, e.Event, e.OldVersion, e.NewVersion, e.Party)
	case recCommand:
		if len(b) == 8 {
			return "command", fmt.Sprintf("last counter %d", binary.BigEndian.Uint64(b))
		}
		return "command", "malformed"
	case recFirmware:
		f, legacy, err := decodeFirmware(b)
		if err != nil {
			return "firmware", "malformed"
		}
		if legacy != nil {
			return "firmware", fmt.Sprintf("active slot %d v%d, images inline (format before slot files)", legacy.Active, legacy.Slots[legacy.Active].Version)
		}
		s := fmt.Sprintf("active slot %s v%d", slotNames[f.Active], f.Slots[f.Active].Version)
		if o := f.Slots[1-f.Active]; o != nil {
			s += fmt.Sprintf(" (other v%d)", o.Version)
		} else {
			s += " (other empty)"
		}
		if a := f.Attempt; a != nil {
			s += fmt.Sprintf(", attempt v%d into %s for logbook entry %d", a.NewVersion, slotNames[a.Slot], a.Seq)
			if f.Active == a.Slot {
				s += " on trial"
			}
		}
		return "firmware", s
	case recFloor:
		if len(b) == 4 {
			return "floor", fmt.Sprintf("security version %d", binary.BigEndian.Uint32(b))
		}
		return "floor", "malformed"
	case recTariff:
		if len(b) == 1 {
			return "tariff", fmt.Sprintf("T%d", b[0])
		}
		if len(b) == 9 {
			return "tariff", fmt.Sprintf("T%d by command %d", b[0], binary.BigEndian.Uint64(b[1:]))
		}
		return "tariff", "malformed"
	case recBlock:
		if len(b) >= 8 {
			return "block", fmt.Sprintf("day %d, %d bytes signed", int64(binary.BigEndian.Uint64(b)), len(b)-8)
		}
		return "block", "malformed"
	case recBreaker:
		if len(b) == 9 && breaker(b[0]) <= breakerArmed {
			return "breaker", fmt.Sprintf("%s by command %d", breaker(b[0]), binary.BigEndian.Uint64(b[1:]))
		}
		return "breaker", "malformed"
	case recTrust:
		if len(b) > 8 {
			return "trust list", fmt.Sprintf("installed by command %d, %d bytes signed", binary.BigEndian.Uint64(b), len(b)-8)
		}
		return "trust list", "malformed"
	case recClock:
		if len(b) == 16 {
			return "clock", fmt.Sprintf("offset %+d s by command %d", int64(binary.BigEndian.Uint64(b)), binary.BigEndian.Uint64(b[8:]))
		}
		return "clock", "malformed"
	case recTaken:
		if len(b) >= 17 {
			what := map[byte]string{takenReading: "reading", takenBlock: "block of day " + fmt.Sprint(int64(binary.BigEndian.Uint64(b[9:])))}[b[8]]
			return "taken", fmt.Sprintf("counter %d, %s, %d bytes signed", binary.BigEndian.Uint64(b), what, len(b)-17)
		}
		return "taken", "malformed"
	case recAcked:
		if len(b) == 8 {
			return "acked", fmt.Sprintf("counter %d acknowledged by the head-end", binary.BigEndian.Uint64(b))
		}
		return "acked", "malformed"
	case recTamper:
		if len(b) >= 8 {
			if t, err := protocol.UnmarshalTamperBatch(b[8:]); err == nil {
				return "tamper", fmt.Sprintf("%d events detected, %d unacknowledged", binary.BigEndian.Uint64(b), len(t.Items))
			}
		}
		return "tamper", "malformed"
	case recRegister:
		if len(b) == 16 {
			return "register", fmt.Sprintf("days up to %d folded: %d Wh", int64(binary.BigEndian.Uint64(b)), binary.BigEndian.Uint64(b[8:]))
		}
		return "register", "malformed"
	}
	return "", ""
}

// liveRecords is what a compaction of the meter's journal keeps: every
// logbook entry (a legal logbook is never erased), the last command
// counter, firmware state, floor, tariff, breaker, clock offset and tamper log, the signed blocks of the last
// blockRetention days, and the intervals of every day still needed — the
// newest day, and every day from the first one whose block was not handed
// out although it is complete. The intervals of the days before are folded
// into one register record (their total), so the register and every later
// block's register reading stay exact. Records of kinds it does not know
// are kept. Of the signed items the Collection machine took (recTaken),
// it keeps every one the gateway has not acknowledged, the blocks of the
// last blockRetention days, and the one with the highest counter (taken
// survives); an acknowledgement is kept while its item is.
func liveRecords(recs []journal.Record) []journal.Record {
	type dayRecs struct {
		recs  []journal.Record
		count int
	}
	days := map[int64]*dayRecs{}
	blocks := map[int64]journal.Record{}
	last := map[byte]journal.Record{}
	taken := map[uint64]journal.Record{}
	handedOut := map[int64]bool{} // days whose block a recTaken holds
	acked := map[uint64]journal.Record{}
	var top uint64
	var reg journal.Record
	var regDay int64 = -1 << 62
	var regWh uint64
	var keep []journal.Record
	newest := int64(-1 << 62)
	for _, r := range recs {
		switch r.Kind {
		case recInterval:
			if len(r.Data) != 14 {
				keep = append(keep, r)
				continue
			}
			day := int64(binary.BigEndian.Uint64(r.Data))
			d := days[day]
			if d == nil {
				d = &dayRecs{}
				days[day] = d
			}
			if int(binary.BigEndian.Uint16(r.Data[8:])) == d.count { // as recover counts them
				d.count++
			}
			d.recs = append(d.recs, r)
			newest = max(newest, day)
		case recBlock:
			if len(r.Data) < 8 {
				keep = append(keep, r)
				continue
			}
			blocks[int64(binary.BigEndian.Uint64(r.Data))] = r
		case recTaken:
			if len(r.Data) < 17 {
				keep = append(keep, r)
				continue
			}
			ctr := binary.BigEndian.Uint64(r.Data)
			taken[ctr], top = r, max(top, ctr)
			if r.Data[8] == takenBlock {
				handedOut[int64(binary.BigEndian.Uint64(r.Data[9:]))] = true
			}
		case recAcked:
			if len(r.Data) != 8 {
				keep = append(keep, r)
				continue
			}
			acked[binary.BigEndian.Uint64(r.Data)] = r
		case recCommand, recFirmware, recFloor, recTariff, recBreaker, recClock, recTamper, recTrust:
			last[r.Kind] = r
		case recRegister:
			if len(r.Data) == 16 {
				reg, regDay, regWh = r, int64(binary.BigEndian.Uint64(r.Data)), binary.BigEndian.Uint64(r.Data[8:]) // cumulative: the last one counts
			} else {
				keep = append(keep, r)
			}
		default: // logbook entries and anything unknown
			keep = append(keep, r)
		}
	}
	for _, r := range last {
		keep = append(keep, r)
	}
	var order []int64
	for d := range days {
		order = append(order, d)
	}
	sort.Slice(order, func(i, j int) bool { return order[i] < order[j] })
	folding := true
	for _, d := range order {
		_, blocked := blocks[d]
		blocked = blocked || handedOut[d]
		if folding && (d <= regDay || d < newest && (blocked || days[d].count < 96)) {
			c := 0
			for _, r := range days[d].recs {
				if v := r.Data; int(binary.BigEndian.Uint16(v[8:])) == c { // a duplicate after a crash counts once
					regWh += uint64(binary.BigEndian.Uint32(v[10:]))
					c++
				}
				if r.Seq > reg.Seq {
					reg.Seq = r.Seq
				}
			}
			regDay = max(regDay, d)
			continue
		}
		folding = false
		keep = append(keep, days[d].recs...)
	}
	if reg.Seq != 0 {
		keep = append(keep, journal.Record{Seq: reg.Seq, Kind: recRegister, Data: binary.BigEndian.AppendUint64(binary.BigEndian.AppendUint64(nil, uint64(regDay)), regWh)})
	}
	for d, r := range blocks {
		if d > newest-blockRetention {
			keep = append(keep, r)
		}
	}
	for ctr, r := range taken {
		a, ack := acked[ctr]
		recent := r.Data[8] == takenBlock && int64(binary.BigEndian.Uint64(r.Data[9:])) > newest-blockRetention
		if !ack || recent || ctr == top {
			keep = append(keep, r)
			if ack {
				keep = append(keep, a)
			}
		}
	}
	sort.Slice(keep, func(i, j int) bool { return keep[i].Seq < keep[j].Seq })
	return keep
}
