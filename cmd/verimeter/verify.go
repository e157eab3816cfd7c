package main

import (
	"crypto/x509"
	"encoding/pem"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/verimeter/verimeter/protocol"
)

func init() {
	register(command{name: "verify", summary: "verify exported signed readings and interval proofs against the PKI root (for customers, courts, auditors)", run: runVerify})
}

// readPEMCerts reads every certificate of a PEM file.
func readPEMCerts(path string) ([]*x509.Certificate, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var out []*x509.Certificate
	for {
		var blk *pem.Block
		blk, b = pem.Decode(b)
		if blk == nil {
			break
		}
		if blk.Type != "CERTIFICATE" {
			continue
		}
		c, err := x509.ParseCertificate(blk.Bytes)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", path, err)
		}
		out = append(out, c)
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("%s: no certificate", path)
	}
	return out, nil
}

func runVerify(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("verify", flag.ContinueOnError)
	fs.SetOutput(stderr)
	rootsPath := fs.String("roots", "", "PEM file with the trusted root certificate(s)")
	certsPath := fs.String("certs", "", "PEM file with the sub-CA and meter certificates")
	crlPath := fs.String("crl", "", "optional PEM CRL of the manufacturer sub-CA")
	setUsage(fs, stderr, "usage: verimeter verify -roots ROOT.pem -certs CERTS.pem [-crl CRL.pem] FILE...",
		"  FILE: a signed reading (COSE_Sign1) or an interval proof (CBOR) as exported by the head-end; flags may follow the files")
	if err := parseInterspersed(fs, args); err != nil {
		return 2
	}
	var missing []string
	for _, m := range []struct{ flag, val string }{{"-roots", *rootsPath}, {"-certs", *certsPath}} {
		if m.val == "" {
			missing = append(missing, m.flag)
		}
	}
	if fs.NArg() == 0 {
		missing = append(missing, "FILE")
	}
	if len(missing) > 0 {
		fmt.Fprintf(stderr, "verimeter verify: missing %s\n", strings.Join(missing, ", "))
		fs.Usage()
		return 2
	}
	roots, err := readPEMCerts(*rootsPath)
	if err != nil {
		fmt.Fprintf(stderr, "verimeter verify: %v\n", err)
		return 1
	}
	all, err := readPEMCerts(*certsPath)
	if err != nil {
		fmt.Fprintf(stderr, "verimeter verify: %v\n", err)
		return 1
	}
	var subs, meters []*x509.Certificate
	for _, c := range all {
		if c.IsCA {
			subs = append(subs, c)
		} else {
			meters = append(meters, c)
		}
	}
	var crls []*x509.RevocationList
	if *crlPath != "" {
		crl, err := protocol.ReadCRL(*crlPath)
		if err != nil {
			fmt.Fprintf(stderr, "verimeter verify: %v\n", err)
			return 1
		}
		crls = append(crls, crl)
	}
	val, err := protocol.NewValidator(roots, subs, crls)
	if err != nil {
		fmt.Fprintf(stderr, "verimeter verify: %v\n", err)
		return 1
	}
	dir, err := protocol.NewMeterDirectory(val, meters)
	if err != nil {
		fmt.Fprintf(stderr, "verimeter verify: %v\n", err)
		return 1
	}
	v := protocol.NewVerifier(dir)
	bad := 0
	for _, path := range fs.Args() {
		msg, err := verifyFile(v, path)
		if err != nil {
			bad++
			fmt.Fprintf(stdout, "REJECTED %s: %v\n", path, err)
			continue
		}
		fmt.Fprintf(stdout, "OK       %s: %s\n", path, msg)
	}
	if bad > 0 {
		fmt.Fprintf(stderr, "verimeter verify: %d of %d rejected\n", bad, fs.NArg())
		return 1
	}
	return 0
}

// Why verify refuses a file before any signature is checked.
var (
	errEmptyFile     = errors.New("empty file")
	errNotSignedData = errors.New("neither a signed reading (COSE_Sign1) nor an interval proof")
)

func verifyFile(v *protocol.Verifier, path string) (string, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return "", err
	}
	if len(b) > 0 && b[0] == 0xD2 { // tag 18: COSE_Sign1, a signed reading or event
		r, err := v.VerifyReading(b)
		if err == nil {
			return fmt.Sprintf("meter %x reading %d: %d Wh at %s", r.Meter, r.Counter, r.Value, time.Unix(r.Time, 0).UTC().Format(time.RFC3339)), nil
		}
		if e, eerr := v.VerifyEvent(b); eerr == nil {
			return fmt.Sprintf("meter %x event %d code %d at %s", e.Meter, e.Counter, e.Code, time.Unix(e.Time, 0).UTC().Format(time.RFC3339)), nil
		}
		return "", err
	}
	if len(b) == 0 {
		return "", errEmptyFile
	}
	p, err := protocol.UnmarshalIntervalProof(b)
	if errors.Is(err, protocol.ErrTruncated) {
		return "", fmt.Errorf("interval proof: %w", err)
	}
	if err != nil {
		return "", fmt.Errorf("%w: %w", errNotSignedData, err)
	}
	h, err := v.VerifyInterval(p)
	if err != nil {
		return "", err
	}
	at := time.Unix(h.Start+int64(p.Interval.Index)*int64(h.Period), 0).UTC()
	return fmt.Sprintf("meter %x interval %s: %d Wh (block %d, Merkle proof of %d hashes)", h.Meter, at.Format(time.RFC3339), p.Interval.Value, h.Counter, len(p.Path)), nil
}
