//go:build !verimeter_mutant_noreplay

package protocol

// mutantNoReplay is false in every real build. A test build with the tag
// verimeter_mutant_noreplay sets it (mutant_noreplay.go) to disable the
// replay window, so the adversary campaign can show that it notices.
const mutantNoReplay = false
