//go:build !device

package main

import (
	"flag"
	"fmt"
	"io"
	"log/slog"
	mrand "math/rand/v2"
	"os"

	"github.com/verimeter/verimeter/fuzz/adversary"
)

func init() {
	register(command{name: "attack", summary: "adversary campaign: every attack class (protocol and market) against the real implementation, with a report", run: runAttack})
}

func runAttack(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("attack", flag.ContinueOnError)
	fs.SetOutput(stderr)
	seed := fs.Uint64("seed", 1, "campaign seed (the same seed repeats the same attacks)")
	n := fs.Int("attempts", 100, "attempts per attack class")
	logPath := fs.String("log", "", "write every attempt as JSON lines to this file")
	setUsage(fs, stderr, "usage: verimeter attack [-seed N] [-attempts N] [-log FILE]")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if *n < 1 || fs.NArg() != 0 {
		fmt.Fprintf(stderr, "verimeter attack: -attempts must be at least 1 and no argument follows the flags\n")
		fs.Usage()
		return 2
	}
	cfg := adversary.Config{Seed: *seed, Attempts: *n}
	if *logPath != "" {
		f, err := os.Create(*logPath)
		if err != nil {
			fmt.Fprintf(stderr, "verimeter attack: %v\n", err)
			return 1
		}
		defer f.Close()
		cfg.Log = slog.New(slog.NewJSONHandler(f, nil))
	}
	dir, err := os.MkdirTemp("", "verimeter-attack-")
	if err != nil {
		fmt.Fprintf(stderr, "verimeter attack: %v\n", err)
		return 1
	}
	defer os.RemoveAll(dir)
	market, err := adversary.NewHeadEndEnv(mrand.New(mrand.NewPCG(*seed, 0x3a)), dir)
	if err != nil {
		fmt.Fprintf(stderr, "verimeter attack: %v\n", err)
		return 1
	}
	defer market.Close()
	rep, err := adversary.Run(cfg, adversary.HeadEndClasses(market)...)
	if err != nil {
		fmt.Fprintf(stderr, "verimeter attack: %v\n", err)
		return 1
	}
	rep.Write(stdout)
	if !rep.OK() {
		fmt.Fprintln(stderr, "verimeter attack: some attacks were not rejected as expected")
		return 1
	}
	return 0
}
