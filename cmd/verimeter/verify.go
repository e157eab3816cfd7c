package main

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/verimeter/verimeter/protocol"
	"github.com/verimeter/verimeter/protocol/translog"
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
	consPath := fs.String("consistency", "", "optional consistency proof between two signed tree heads of the head-end's log")
	setUsage(fs, stderr, "usage: verimeter verify -roots ROOT.pem -certs CERTS.pem [-crl CRL.pem] [-consistency FILE] FILE...",
		"  FILE: a signed reading (COSE_Sign1) or an interval proof (CBOR) as exported by the head-end; FILE.log beside it, if present,",
		"  is its inclusion proof into a signed tree head of the head-end's transparency log (required once the meter's key is revoked);",
		"  CERTS.pem holds the sub-CAs, the meters' certificates and the log's certificate; flags may follow the files")
	if err := parseInterspersed(fs, args); err != nil {
		return 2
	}
	var missing []string
	for _, m := range []struct{ flag, val string }{{"-roots", *rootsPath}, {"-certs", *certsPath}} {
		if m.val == "" {
			missing = append(missing, m.flag)
		}
	}
	if fs.NArg() == 0 && *consPath == "" {
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
	var subs, meters, logs []*x509.Certificate
	for _, c := range all {
		if _, isMeter := protocol.CertSystemTitle(c); c.IsCA {
			subs = append(subs, c)
		} else if !isMeter && protocol.HasRole(c, protocol.RoleHeadEnd) {
			logs = append(logs, c)
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
	keys, err := newKeyGenerations(val, meters)
	if err != nil {
		fmt.Fprintf(stderr, "verimeter verify: %v\n", err)
		return 1
	}
	lg := logVerifier{val: val, certs: logs}
	bad := 0
	if *consPath != "" {
		msg, err := lg.consistency(*consPath)
		if err != nil {
			bad++
			fmt.Fprintf(stdout, "REJECTED %s: %v\n", *consPath, err)
		} else {
			fmt.Fprintf(stdout, "OK       %s: %s\n", *consPath, msg)
		}
	}
	for _, path := range fs.Args() {
		msg, g, meter, leaf, err := keys.verifyFile(path)
		if err == nil {
			var logMsg string
			retire, retired := keys.retired(g, meter)
			if logMsg, err = lg.evidence(keys.dirs[g], path, meter, leaf, retire, retired); logMsg != "" {
				msg += "; " + logMsg
			}
		}
		if err != nil {
			bad++
			fmt.Fprintf(stdout, "REJECTED %s: %v\n", path, err)
			continue
		}
		fmt.Fprintf(stdout, "OK       %s: %s\n", path, msg)
	}
	if bad > 0 {
		fmt.Fprintf(stderr, "verimeter verify: %d rejected\n", bad)
		return 1
	}
	return 0
}

// Why verify refuses a file before any signature is checked.
var (
	errEmptyFile     = errors.New("empty file")
	errNotSignedData = errors.New("neither a signed reading (COSE_Sign1) nor an interval proof")
)

// errNotLoggedInTime is verify's reason for refusing an item signed with a
// key that was later revoked and that has no inclusion proof into a tree
// head older than the key's invalidity date: its signing time is the key
// holder's word only (DESIGN.md S8).
var errNotLoggedInTime = errors.New("not logged before the key's invalidity date")

// errLoggedAfterRetirement is verify's reason for refusing an item signed
// with a meter's old key that has no inclusion proof into a tree head older
// than the key's retirement (the certification of the meter's next key):
// from then on only the new key counts, whoever signs with the old one and
// whatever time it claims (spec/Market.tla's S8_RetiredKeyStops).
var errLoggedAfterRetirement = errors.New("not logged before the key's retirement")

// keyGenerations are the meters' signing certificates in the order each
// meter's keys were certified: generation g holds each meter's g-th
// certificate (by NotBefore), so a meter whose key was rotated has one
// certificate in each of two generations. An item is verified under the
// generation whose key its signature verifies with, and that key is judged
// by its own validity: its certificate and CRL entry, and its retirement,
// the NotBefore of the meter's next certificate (spec/Market.tla's
// OfflineAccepts).
type keyGenerations struct {
	dirs []*protocol.MeterDirectory
	vs   []*protocol.Verifier
	// next is the NotBefore of each meter's certificate of generation g+1.
	next []map[protocol.SystemTitle]time.Time
}

// newKeyGenerations sorts the meters' certificates into generations.
func newKeyGenerations(val *protocol.Validator, meters []*x509.Certificate) (*keyGenerations, error) {
	byMeter := map[protocol.SystemTitle][]*x509.Certificate{}
	for _, c := range meters {
		st, found := protocol.CertSystemTitle(c)
		if !found {
			return nil, fmt.Errorf("%w: %s names no system title", protocol.ErrCertificate, c.Subject.CommonName)
		}
		byMeter[st] = append(byMeter[st], c)
	}
	var gens [][]*x509.Certificate
	k := &keyGenerations{}
	for st, cs := range byMeter {
		slices.SortStableFunc(cs, func(a, b *x509.Certificate) int { return a.NotBefore.Compare(b.NotBefore) })
		for g, c := range cs {
			if g == len(gens) {
				gens = append(gens, nil)
				k.next = append(k.next, map[protocol.SystemTitle]time.Time{})
			}
			gens[g] = append(gens[g], c)
			if g+1 < len(cs) {
				k.next[g][st] = cs[g+1].NotBefore
			}
		}
	}
	if len(gens) == 0 {
		gens = append(gens, nil)
		k.next = append(k.next, nil)
	}
	for _, cs := range gens {
		d, err := protocol.NewMeterDirectory(val, cs)
		if err != nil {
			return nil, err
		}
		k.dirs = append(k.dirs, d)
		k.vs = append(k.vs, protocol.NewVerifier(d))
	}
	return k, nil
}

// retired returns the retirement of the meter's key of generation g, and
// whether it has one.
func (k *keyGenerations) retired(g int, meter protocol.SystemTitle) (time.Time, bool) {
	t, ok := k.next[g][meter]
	return t, ok
}

// verifyFile verifies a file under each generation in turn and returns the
// generation whose key signed it. When none verifies, the refusal is the
// first generation's, unless that is a wrong signature and a later
// generation's key was revoked or expired at the time the item claims
// (the certificate of the key that signed it says more than another key's
// mismatch; a generation without the meter's certificate says nothing).
func (k *keyGenerations) verifyFile(path string) (string, int, protocol.SystemTitle, []byte, error) {
	var first error
	for g, v := range k.vs {
		msg, meter, leaf, err := verifyFile(v, path)
		if err == nil {
			return msg, g, meter, leaf, nil
		}
		if first == nil || errors.Is(first, protocol.ErrBadSignature) && (errors.Is(err, protocol.ErrRevoked) || errors.Is(err, protocol.ErrExpired)) {
			first = err
		}
	}
	return "", 0, protocol.SystemTitle{}, nil, first
}

// errLog is verify's reason for refusing a log file: a tree head not
// signed by a log certificate of the PKI, or a proof that does not hold.
var errLog = errors.New("transparency log evidence rejected")

// logVerifier checks the head-end's transparency log evidence offline with
// the PKI: tree heads signed by a certificate of role head-end that chains
// to the root and was valid at the tree head's time.
type logVerifier struct {
	val   *protocol.Validator
	certs []*x509.Certificate
}

// treeHead checks a signed tree head's signature under a log certificate.
func (l logVerifier) treeHead(sth *translog.SignedTreeHead) error {
	for _, c := range l.certs {
		pub, ok := c.PublicKey.(*ecdsa.PublicKey)
		if !ok || !bytes.Equal(protocol.SubjectKeyID(pub), sth.KeyID) {
			continue
		}
		if err := l.val.Check(c, protocol.RoleHeadEnd, sth.Time); err != nil {
			return fmt.Errorf("%w: log certificate: %w", errLog, err)
		}
		if err := sth.Verify(pub); err != nil {
			return fmt.Errorf("%w: %w", errLog, err)
		}
		return nil
	}
	return fmt.Errorf("%w: no log certificate with key id %x in -certs", errLog, sth.KeyID)
}

// evidence applies the evidence rule to a verified item: its FILE.log
// beside it, if present, must prove it in a tree head of the log; if the
// key that signed it has an invalidity date, the tree head must be older;
// and if the key was retired (retire, the meter's next key's
// certification), older than that too.
func (l logVerifier) evidence(dir *protocol.MeterDirectory, path string, meter protocol.SystemTitle, leaf []byte, retire time.Time, retired bool) (string, error) {
	inv, revoked, err := dir.InvalidFrom(meter)
	if err != nil {
		return "", err
	}
	eb, err := os.ReadFile(path + ".log")
	if errors.Is(err, os.ErrNotExist) {
		if revoked {
			return "", fmt.Errorf("%w (%s): no inclusion proof (%s.log)", errNotLoggedInTime, inv.UTC().Format(time.RFC3339), filepath.Base(path))
		}
		if retired {
			return "", fmt.Errorf("%w (%s): no inclusion proof (%s.log)", errLoggedAfterRetirement, retire.UTC().Format(time.RFC3339), filepath.Base(path))
		}
		return "", nil
	}
	if err != nil {
		return "", err
	}
	ev, err := translog.UnmarshalEvidence(eb)
	if err != nil {
		return "", fmt.Errorf("%w: %w", errLog, err)
	}
	if err := l.treeHead(ev.TreeHead); err != nil {
		return "", err
	}
	if err := ev.VerifyLeaf(leaf); err != nil {
		return "", fmt.Errorf("%w: %w", errLog, err)
	}
	at := ev.TreeHead.Time.UTC().Format(time.RFC3339)
	if revoked && !ev.TreeHead.Time.Before(inv) {
		return "", fmt.Errorf("%w (%s): first in a tree head of %s", errNotLoggedInTime, inv.UTC().Format(time.RFC3339), at)
	}
	if retired && !ev.TreeHead.Time.Before(retire) {
		return "", fmt.Errorf("%w (%s, the meter's next key certified): first in a tree head of %s", errLoggedAfterRetirement, retire.UTC().Format(time.RFC3339), at)
	}
	return fmt.Sprintf("logged by %s (leaf %d of %d)", at, ev.Index, ev.TreeHead.Size), nil
}

// consistency checks a consistency proof between two signed tree heads.
func (l logVerifier) consistency(path string) (string, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return "", err
	}
	c, err := translog.UnmarshalConsistency(b)
	if err != nil {
		return "", fmt.Errorf("%w: %w", errLog, err)
	}
	for _, sth := range []*translog.SignedTreeHead{c.Old, c.New} {
		if err := l.treeHead(sth); err != nil {
			return "", err
		}
	}
	if err := c.Verify(); err != nil {
		return "", fmt.Errorf("%w: %w", errLog, err)
	}
	return fmt.Sprintf("log of %d leaves at %s extends the log of %d leaves at %s", c.New.Size, c.New.Time.UTC().Format(time.RFC3339), c.Old.Size, c.Old.Time.UTC().Format(time.RFC3339)), nil
}

// verifyFile verifies an exported file and returns what it says, the meter
// that signed it and its transparency log leaf (the COSE_Sign1 the meter
// signed).
func verifyFile(v *protocol.Verifier, path string) (string, protocol.SystemTitle, []byte, error) {
	var none protocol.SystemTitle
	b, err := os.ReadFile(path)
	if err != nil {
		return "", none, nil, err
	}
	if len(b) > 0 && b[0] == 0xD2 { // tag 18: COSE_Sign1, a signed reading or event
		r, err := v.VerifyReading(b)
		if err == nil {
			return fmt.Sprintf("meter %x reading %d: %d Wh at %s", r.Meter, r.Counter, r.Value, time.Unix(r.Time, 0).UTC().Format(time.RFC3339)), r.Meter, b, nil
		}
		if e, eerr := v.VerifyEvent(b); eerr == nil {
			return fmt.Sprintf("meter %x event %d code %d at %s", e.Meter, e.Counter, e.Code, time.Unix(e.Time, 0).UTC().Format(time.RFC3339)), e.Meter, b, nil
		}
		return "", none, nil, err
	}
	if len(b) == 0 {
		return "", none, nil, errEmptyFile
	}
	p, err := protocol.UnmarshalIntervalProof(b)
	if errors.Is(err, protocol.ErrTruncated) {
		return "", none, nil, fmt.Errorf("interval proof: %w", err)
	}
	if err != nil {
		return "", none, nil, fmt.Errorf("%w: %w", errNotSignedData, err)
	}
	h, err := v.VerifyInterval(p)
	if err != nil {
		return "", none, nil, err
	}
	at := time.Unix(h.Start+int64(p.Interval.Index)*int64(h.Period), 0).UTC()
	return fmt.Sprintf("meter %x interval %s: %d Wh (block %d, Merkle proof of %d hashes)", h.Meter, at.Format(time.RFC3339), p.Interval.Value, h.Counter, len(p.Path)), h.Meter, p.Sign1, nil
}
