package main

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"github.com/verimeter/verimeter/protocol"
)

// Configuration files of the processes, written by `verimeter provision`
// (or by an operator's own provisioning): JSON, paths to PEM files.

type meterFile struct {
	Title        string `json:"title"` // 16 hex digits
	Model        string `json:"model"`
	SigningKey   string `json:"signing_key"`
	ChannelKey   string `json:"channel_key"`
	TrustList    string `json:"trust_list"`    // the signed trust list (binary)
	Operator     string `json:"operator_cert"` // trust-list signer
	Manufacturer string `json:"manufacturer_cert"`
	Authority    string `json:"authority_cert"`
	Socket       string `json:"socket"`
	Gateway      string `json:"gateway_socket"`
	Addr         uint8  `json:"hdlc_address"`
	Dir          string `json:"data_dir"`
	Seed         uint64 `json:"seed"`
	Day          int64  `json:"day"` // the day whose 96 quarter hours the simulated meter measures at start
	// LogbookCapacity is the logbook's size (0: the meter's default); a
	// full logbook refuses downloads.
	LogbookCapacity int `json:"logbook_capacity,omitempty"`
	// SelfTestMillis is how long the simulated self-test of new firmware
	// takes (a real one takes time too; the crash campaign kills in it).
	SelfTestMillis int `json:"self_test_ms,omitempty"`
}

// firmwareFile is a firmware campaign for `gateway run -firmware`: the
// signed manifest and the image, relayed to every meter of the gateway.
type firmwareFile struct {
	Campaign uint32 `json:"campaign"`
	Manifest []byte `json:"manifest"` // base64 in JSON
	Image    []byte `json:"image"`
}

type gatewayMeter struct {
	Title       string `json:"title"`
	Socket      string `json:"socket"`
	Addr        uint8  `json:"hdlc_address"`
	ChannelCert string `json:"channel_cert"`
}

type gatewayFile struct {
	Name        string `json:"name"`
	Title       string `json:"title"`
	ChannelKey  string `json:"channel_key"`
	TLSCert     string `json:"tls_cert"`
	TLSKey      string `json:"tls_key"`
	Roots       string `json:"roots"`
	SubCAs      string `json:"sub_cas"`
	HeadEndAddr string `json:"headend_addr_file"`
	// OtherHeadEnds are the address files of further head-ends on the
	// same database (a scaled-out head-end): a gateway run uses the first
	// of all of them that answers.
	OtherHeadEnds []string `json:"other_headend_addr_files,omitempty"`
	// HeadEndCommandCert is the chain of the head-end's command key: a
	// wake-up (gateway run -wakeup) must be signed with it.
	HeadEndCommandCert string         `json:"headend_command_cert,omitempty"`
	Socket             string         `json:"socket"`
	Dir                string         `json:"data_dir"`
	Day                int64          `json:"day"`
	Meters             []gatewayMeter `json:"meters"`
}

type contractFile struct {
	Participant string `json:"participant"`
	Role        string `json:"role"`
	Meter       string `json:"meter"`
	From        string `json:"from"` // RFC 3339
	To          string `json:"to"`
}

type headendFile struct {
	DB         string `json:"db"`                 // SQLite file (the default store)
	Postgres   string `json:"postgres,omitempty"` // PostgreSQL connection string: used instead of DB when set
	Listen     string `json:"listen"`
	AddrFile   string `json:"addr_file"`
	TLSCert    string `json:"tls_cert"`
	TLSKey     string `json:"tls_key"`
	CommandKey string `json:"command_key"`
	// LogKey signs the transparency log's tree heads (optional: without it
	// the head-end logs every item but signs no tree heads), every
	// TreeHeadEvery (a Go duration; default 1m).
	LogKey        string `json:"log_key,omitempty"`
	TreeHeadEvery string `json:"tree_head_every,omitempty"`
	// DisconnectsPerHour caps the disconnect commands the head-end signs
	// in any hour (a compromised operator account cannot cut a city off);
	// an approval above it is refused (422, class refused) and the command
	// stays pending. 0 or absent: the head-end's default, 50.
	DisconnectsPerHour int            `json:"disconnects_per_hour,omitempty"`
	Roots              string         `json:"roots"`
	SubCAs             string         `json:"sub_cas"`
	MeterCerts         string         `json:"meter_certs"`
	Contracts          []contractFile `json:"contracts"`
	// CRLs is a directory of CRL files (*.crl) the head-end takes at start
	// and again whenever one's number grows (watchCRLs); optional.
	CRLs string `json:"crls,omitempty"`
}

func readJSON(path string, v any) error {
	b, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	if err := json.Unmarshal(b, v); err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	return nil
}

func writeJSON(path string, v any) error {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(path, append(b, '\n'), 0o600)
}

func certKey(path string) (*ecdsa.PublicKey, error) {
	c, err := protocol.ReadCertificate(path)
	if err != nil {
		return nil, err
	}
	k, ok := c.PublicKey.(*ecdsa.PublicKey)
	if !ok {
		return nil, fmt.Errorf("%s: not an ECDSA key", path)
	}
	return k, nil
}

// loadTLS reads a TLS certificate chain and its key. The chain a peer
// sends is the file's (the certificate, then its sub-CA, as provision and
// `pki issue` write it); when the file holds the certificate alone, its
// issuer from intermediates is appended, so a standard client that trusts
// only the root can still build the chain (PKI.md, TLS).
func loadTLS(certPath, keyPath string, intermediates []*x509.Certificate) (tls.Certificate, error) {
	chain, err := protocol.ReadChain(certPath)
	if err != nil {
		return tls.Certificate{}, err
	}
	k, err := protocol.ReadKey(keyPath)
	if err != nil {
		return tls.Certificate{}, err
	}
	if !k.PublicKey.Equal(chain[0].PublicKey) {
		return tls.Certificate{}, fmt.Errorf("%w: %s does not match %s", protocol.ErrCertificate, keyPath, certPath)
	}
	if last := chain[len(chain)-1]; !bytes.Equal(last.RawIssuer, last.RawSubject) {
		for _, ca := range intermediates {
			if bytes.Equal(last.RawIssuer, ca.RawSubject) && last.CheckSignatureFrom(ca) == nil {
				chain = append(chain, ca)
				break
			}
		}
	}
	out := tls.Certificate{PrivateKey: k, Leaf: chain[0]}
	for _, c := range chain {
		out.Certificate = append(out.Certificate, c.Raw)
	}
	return out, nil
}

// stopOnSignal returns a channel closed at SIGINT or SIGTERM.
func stopOnSignal() <-chan struct{} {
	ch := make(chan os.Signal, 1)
	signal.Notify(ch, os.Interrupt, syscall.SIGTERM)
	stop := make(chan struct{})
	go func() { <-ch; close(stop) }()
	return stop
}
