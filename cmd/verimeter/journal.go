package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"path/filepath"
	"strings"

	"github.com/verimeter/verimeter/gateway"
	"github.com/verimeter/verimeter/meter"
	"github.com/verimeter/verimeter/statemachine/journal"
)

// Exit codes of verimeter journal: a corrupt journal is told apart from
// one that cannot be read at all, so a script knows which it has.
const (
	journalOK         = 0
	journalUnreadable = 1 // missing file, I/O error, unknown format version
	journalUsage      = 2
	journalCorrupt    = 10 // a record before the tail does not verify
)

func init() {
	register(command{name: "journal", summary: "check or dump a meter's or gateway's journal (check|dump FILE)", run: runJournal})
}

// runJournal reads a role's journal without changing it: `check` verifies
// every record and says whether a torn tail would be cut, `dump` prints
// one line per record.
func runJournal(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("journal", flag.ContinueOnError)
	fs.SetOutput(stderr)
	role := fs.String("role", "", "record kinds to name: meter or gateway (default: from the file name, meter.log or queue)")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: verimeter journal check|dump [-role meter|gateway] FILE")
		fmt.Fprintln(stderr, "exit: 0 whole (a torn tail is noted), 10 a corrupt record before the tail (named), 1 unreadable, 2 usage")
		fs.PrintDefaults()
	}
	if len(args) == 0 || args[0] != "check" && args[0] != "dump" {
		fs.Usage()
		return journalUsage
	}
	verb := args[0]
	if err := fs.Parse(args[1:]); err != nil {
		return journalUsage
	}
	if fs.NArg() != 1 {
		fs.Usage()
		return journalUsage
	}
	path := fs.Arg(0)
	describe, err := describer(*role, path)
	if err != nil {
		fmt.Fprintf(stderr, "journal: %v\n", err)
		return journalUsage
	}
	rep, recs, err := journal.Inspect(nil, path)
	if err != nil {
		fmt.Fprintf(stderr, "journal: %v\n", err)
		if errors.Is(err, journal.ErrCorrupt) {
			return journalCorrupt
		}
		return journalUnreadable
	}
	if verb == "dump" {
		for i, r := range recs {
			name, summary := describe(r.Kind, r.Data)
			if name == "" {
				name = fmt.Sprintf("kind-%d", r.Kind)
			}
			fmt.Fprintf(stdout, "%d\t%d\tseq %d\t%s\t%d\t%s\n", i, r.Offset, r.Seq, name, len(r.Data), summary)
		}
	}
	fmt.Fprintf(stdout, "%s: ok, %d records, %d bytes, format version %d", path, rep.Records, rep.Size, rep.Version)
	if rep.TornBytes > 0 {
		fmt.Fprintf(stdout, "; torn tail of %d bytes (%s), cut when the role opens it", rep.TornBytes, rep.TornReason)
	}
	fmt.Fprintln(stdout)
	return journalOK
}

// describer picks the record names of the role whose journal path is.
func describer(role, path string) (func(byte, []byte) (string, string), error) {
	if role == "" {
		switch base := filepath.Base(path); {
		case strings.HasPrefix(base, "queue"):
			role = "gateway"
		case strings.HasPrefix(base, "meter"):
			role = "meter"
		}
	}
	switch role {
	case "meter":
		return meter.DescribeRecord, nil
	case "gateway":
		return gateway.DescribeQueueRecord, nil
	case "":
		return func(byte, []byte) (string, string) { return "", "" }, nil
	}
	return nil, fmt.Errorf("unknown role %q (meter or gateway)", role)
}
