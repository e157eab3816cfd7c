package meter

import "github.com/verimeter/verimeter/statemachine/journal"

// ErrStore marks a failure of the meter's persistent store.
var ErrStore = journal.ErrJournal

// Store is the meter's persistent state: a journal of the records below.
type Store = journal.Journal

// OpenStore opens the meter's journal ("" keeps it in memory).
func OpenStore(path string) (*Store, error) { return journal.Open(path) }

// Record kinds of the store.
const (
	recInterval byte = 1 // one measured interval (day, index, Wh)
	recLogbook  byte = 2 // one WELMEC 7.2 logbook entry
	recCommand  byte = 3 // the counter of the last executed command
	recFirmware byte = 4 // the slots and the active one
	recFloor    byte = 5 // the committed security-version floor
	recTariff   byte = 6 // the active tariff
	recBlock    byte = 7 // a signed load-profile block handed out (day, bytes)
)
