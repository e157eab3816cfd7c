// Package meter is the meter role: it measures (from its Source, the
// metrology front end), keeps the register and the 15-minute load profile,
// signs readings and load-profile blocks with its metrological key, protects
// them on the PLC channel, answers the gateway's reads, executes authorised
// commands in issue order, and installs firmware.
//
// The legally relevant part is Core (core.go): the manifest check, the
// security-version floor, the WELMEC 7.2 logbook and the software ID computed
// from the installed legally relevant code at boot. Its decisions are the
// steps of the Firmware machine generated from spec/Firmware.tla
// (machine_gen.go); Core keeps the signature and digest checks, which are
// the steps' event fields, and the durable writes each step asks for. It is fixed: no download
// replaces it, and the communication part (meter.go) reaches it only through
// Core's methods (the documented interface of WELMEC 7.2 S1/S2). Registers
// and counters live outside the firmware slots, so no energy is lost across
// an install or a rollback. An install attempt is journaled before its
// image is written; the image then runs on trial until its logbook entry
// confirms it; a boot after power loss during an install rolls it back and
// logs it, so every install ends complete or rolled back and every attempt,
// failed ones included, is one logbook entry (LogEntry.Cause classifies the
// failures). A full logbook refuses downloads (ErrLogbookFull), never
// overwrites.
//
// State that must survive power loss (registers, the load profile of the
// day, command counters, the breaker and the clock offset with the counter
// of the command that set them, the logbook, the firmware slots' metadata)
// is kept in a small checksummed append-only store (store.go,
// statemachine/journal); the slot images are files of their own beside it
// (slot-a.img, slot-b.img, slots.go), each replaced crash-safely (temporary
// file, fsync, rename, directory fsync), so a journal record stays small
// whatever the images' size; counters
// for nonces and signed data are reserved durably before use
// (protocol.FileStore). A torn tail of the store is cut and reported
// (Meter.StoreReport); corruption before it stops the meter with a
// *journal.CorruptError naming the record. The store is compacted to its
// live records (every logbook entry, the last command counter, firmware,
// floor, tariff, breaker, clock offset and tamper log, recent signed blocks, the intervals still needed and a
// register total of the rest), so its size follows the live state.
//
// The channel's sending side (channel.go) takes its decisions from the
// generated machine of spec/Channel.tla (machine_gen.go): which invocation
// counter an APDU is sealed under (Seal), when the next block of counters
// is made durable (Reserve, written to the counter store before any of them
// is used), the key epoch a key agreement starts (Agree, the epoch and its
// key id written before the new key seals) and the resume after power loss
// (Crash: the next counter is the durable reservation). protocol.Sealer
// only encrypts under the counter the machine chose.
//
// Tamper events (UC9, tamper.go) follow the generated machine of
// spec/Tamper.tla: Meter.Tamper (the sensor's input) numbers an event, the
// meter signs it with its metrological key, and one synced journal record
// (recTamper: the event counter and every unacknowledged signed event)
// holds it before anything is sent; every PDUTamperEvents request sends the
// log again, and an event is forgotten only on a tamperAck that verifies
// under a head-end key of the trust list for its exact bytes (ReceiveAck).
package meter
