//go:build race

package memtest

// RaceEnabled reports a build with the race detector, whose shadow memory
// takes page faults of its own at first accesses: a test counting faults
// cannot tell them from the ones it checks for.
const RaceEnabled = true
