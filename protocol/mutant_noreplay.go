//go:build verimeter_mutant_noreplay

package protocol

// mutantNoReplay: THIS BUILD IS BROKEN ON PURPOSE. It accepts replayed
// APDUs; it exists only so tests can prove the adversary campaign fails.
const mutantNoReplay = true
