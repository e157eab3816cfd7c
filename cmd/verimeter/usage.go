package main

import (
	"flag"
	"fmt"
	"io"
)

// setUsage makes fs print the command's synopsis, any further lines, then
// every flag with its default: one shape for every command, so that
// TestUsageMatchesFlags can hold each synopsis to the flags it defines.
func setUsage(fs *flag.FlagSet, w io.Writer, synopsis string, more ...string) {
	fs.Usage = func() {
		fmt.Fprintln(w, synopsis)
		for _, l := range more {
			fmt.Fprintln(w, l)
		}
		fs.PrintDefaults()
	}
}

// parseInterspersed parses flags before, between and after positional
// arguments, as users expect of most command lines (verimeter verify
// FILE... -roots ROOT.pem); after "--" everything is positional. fs.Args()
// then returns the positional arguments in order.
func parseInterspersed(fs *flag.FlagSet, args []string) error {
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			return err
		}
		rest := fs.Args()
		if len(rest) == 0 {
			break
		}
		if n := len(args) - len(rest); n > 0 && args[n-1] == "--" {
			pos = append(pos, rest...)
			break
		}
		pos = append(pos, rest[0])
		args = rest[1:]
	}
	return fs.Parse(append([]string{"--"}, pos...))
}
