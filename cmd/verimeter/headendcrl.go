//go:build !device

package main

import (
	"context"
	"fmt"
	"io"
	"math/big"
	"path/filepath"
	"time"

	"github.com/verimeter/verimeter/headend"
	"github.com/verimeter/verimeter/protocol"
)

// watchCRLs gives the head-end the CRLs of dir (its *.crl files, as
// `verimeter pki` writes them): every one now, before the head-end serves,
// and then every `every` each file whose CRL number is higher than the one
// last taken from it (headend.HeadEnd.LearnCRL: the meters' Market
// machines take PublishCRL, and what the log recorded from a key's
// invalidity date on stops being evidence). A file that does not read or
// verify is reported to stderr and tried again at the next scan. With dir
// empty there is nothing to watch. The returned stop ends the watch.
func watchCRLs(he *headend.HeadEnd, dir string, every time.Duration, stderr io.Writer) (stop func(), err error) {
	if dir == "" {
		return func() {}, nil
	}
	ctx, cancel := context.WithCancel(context.Background())
	seen := map[string]*big.Int{}
	scan := func() error {
		paths, err := filepath.Glob(filepath.Join(dir, "*.crl"))
		if err != nil {
			return err
		}
		for _, p := range paths {
			crl, err := protocol.ReadCRL(p)
			if err == nil && seen[p] != nil && crl.Number != nil && crl.Number.Cmp(seen[p]) <= 0 {
				continue
			}
			n := 0
			if err == nil {
				n, err = he.LearnCRL(ctx, crl)
			}
			if err != nil {
				fmt.Fprintf(stderr, "verimeter headend: CRL %s: %v\n", p, err)
				continue
			}
			seen[p] = crl.Number
			fmt.Fprintf(stderr, "verimeter headend: CRL %s (number %v) taken: %d meter keys' invalidity known\n", p, crl.Number, n)
		}
		return nil
	}
	if err := scan(); err != nil {
		cancel()
		return nil, fmt.Errorf("crls %s: %w", dir, err)
	}
	go func() {
		t := time.NewTicker(every)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
				if err := scan(); err != nil {
					fmt.Fprintf(stderr, "verimeter headend: crls %s: %v\n", dir, err)
				}
			}
		}
	}()
	return cancel, nil
}
