//go:build !device

package main

import (
	"bytes"
	"regexp"
	"slices"
	"strings"
	"testing"
)

var (
	synopsisFlag = regexp.MustCompile(`(?:^|[\s\[])-([a-z][a-z0-9-]*)`)
	definedFlag  = regexp.MustCompile(`(?m)^  -([a-z][a-z0-9-]*)`)
)

// TestUsageMatchesFlags: each command's synopsis names exactly the flags
// the command defines (the "usage: ..." line against flag.PrintDefaults'
// list under it), so usage can neither advertise a flag that does not
// exist nor hide one. pki's subcommands are checked with the PKI.
func TestUsageMatchesFlags(t *testing.T) {
	for _, argv := range [][]string{
		{"attack"}, {"check"}, {"conformance"}, {"demo"}, {"gen"}, {"plc", "capacity"},
		{"provision"}, {"trace-check"}, {"verify"}, {"headend", "serve"}, {"gateway", "run"}, {"meter", "run"}, {"campaign", "show"}, {"operator"},
	} {
		name := strings.Join(argv, " ")
		t.Run(name, func(t *testing.T) {
			var out, errb bytes.Buffer
			run(append(argv, "-h"), &out, &errb)
			text := errb.String()
			first, _, _ := strings.Cut(text, "\n")
			if !strings.HasPrefix(first, "usage: verimeter "+name) {
				t.Fatalf("-h does not start with the synopsis:\n%s", text)
			}
			var inSynopsis, defined []string
			for _, m := range synopsisFlag.FindAllStringSubmatch(strings.TrimPrefix(first, "usage: verimeter "+name), -1) {
				inSynopsis = append(inSynopsis, m[1])
			}
			for _, m := range definedFlag.FindAllStringSubmatch(text, -1) {
				defined = append(defined, m[1])
			}
			slices.Sort(inSynopsis)
			slices.Sort(defined)
			if len(defined) == 0 || !slices.Equal(inSynopsis, defined) {
				t.Errorf("synopsis names %v, the command defines %v:\n%s", inSynopsis, defined, text)
			}
		})
	}
}

// TestFlagsAfterPositionalArguments: flags may follow the files, as with
// most command-line tools; after "--" everything is a file.
func TestFlagsAfterPositionalArguments(t *testing.T) {
	var out, errb bytes.Buffer
	code := run([]string{"verify", "a.cbor", "-roots", "r.pem", "b.cbor", "-certs", "c.pem"}, &out, &errb)
	// The PEM files do not exist: the command got past usage to reading them.
	if code != 1 || !strings.Contains(errb.String(), "r.pem") {
		t.Fatalf("exit %d: %s", code, errb.String())
	}
	code = run([]string{"verify", "-roots", "r.pem", "--", "-certs"}, &out, &errb)
	if code != 2 || !strings.Contains(errb.String(), "missing -certs") {
		t.Fatalf("after --: exit %d: %s", code, errb.String())
	}
	errb.Reset()
	code = run([]string{"trace-check", "x.ndjson", "-spec", "nowhere/X.tla"}, &out, &errb)
	if code != exitInternal || !strings.Contains(errb.String(), "X.tla") {
		t.Fatalf("trace-check with the spec flag last: exit %d: %s", code, errb.String())
	}
}
