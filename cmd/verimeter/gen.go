//go:build !device

package main

import (
	"flag"
	"fmt"
	"io"

	"github.com/verimeter/verimeter/statemachine/gen"
)

func init() {
	register(command{name: "gen", summary: "generate the roles' state machines from the spec (check, or -write)", run: runGen})
}

// runGen regenerates the machine files of statemachine/gen.Targets. Without
// -write it only compares (exit 1 when a file is stale), so CI can run it;
// with -write it rewrites the stale files, as `go generate ./...` does.
// Convention violations the generator can work around are printed as
// warnings (fatal with -strict); anything it cannot translate is an error
// with its file:line:col.
func runGen(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("gen", flag.ContinueOnError)
	fs.SetOutput(stderr)
	write := fs.Bool("write", false, "rewrite stale generated files instead of only reporting them")
	specDir := fs.String("spec", "spec", "directory of the TLA+ modules")
	root := fs.String("root", ".", "module root the generated paths are relative to")
	strict := fs.Bool("strict", false, "treat convention warnings as errors")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: verimeter gen [-write] [-spec DIR] [-root DIR] [-strict]")
		fmt.Fprintln(stderr, "exit: 0 up to date (or written), 1 stale, 2 spec outside the generator's subset or bad input")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return exitBadInput // the flag package printed the usage
	}
	if fs.NArg() != 0 {
		fmt.Fprintf(stderr, "verimeter gen: unexpected argument %q\n", fs.Arg(0))
		fs.Usage()
		return exitBadInput
	}
	files, diags, err := gen.Generate(*specDir, nil)
	for _, d := range diags {
		fmt.Fprintf(stderr, "warning: %s\n", d)
	}
	if err != nil {
		fmt.Fprintf(stderr, "%v\n", err)
		return exitBadInput
	}
	if *strict && len(diags) > 0 {
		fmt.Fprintf(stderr, "gen: %d convention warnings with -strict\n", len(diags))
		return exitBadInput
	}
	stale, err := gen.Stale(*root, files, *write)
	if err != nil {
		fmt.Fprintf(stderr, "%v\n", err)
		return exitBadInput
	}
	for _, p := range stale {
		if *write {
			fmt.Fprintf(stdout, "wrote %s\n", p)
		} else {
			fmt.Fprintf(stdout, "stale %s (run verimeter gen -write)\n", p)
		}
	}
	if len(stale) > 0 && !*write {
		return 1
	}
	return 0
}
