// Package memtest reads how the kernel served this process's memory, for
// the tests that check how the checker's tables are mapped: a table read
// before it is written takes a second page fault, and with two workers an
// interrupt of the other core (value.TouchPages). It is test support only;
// no production package imports it.
package memtest
