// Package pgtest starts a throwaway PostgreSQL server for a test: the
// head-end's store tests and the multi-process tests of a scaled-out
// head-end (two head-end processes on one database) share it. It is test
// support only; no production package imports it.
package pgtest
