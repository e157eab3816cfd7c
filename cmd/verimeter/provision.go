//go:build !device

package main

import (
	"crypto/ecdsa"
	"crypto/rand"
	"crypto/x509"
	"encoding/hex"
	"encoding/pem"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"github.com/verimeter/verimeter/protocol"
)

func init() {
	register(command{name: "provision", summary: "create a PKI and the configuration of a head-end, gateways and meters to run as processes on this host", run: runProvision})
}

func runProvision(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("provision", flag.ContinueOnError)
	fs.SetOutput(stderr)
	dir := fs.String("dir", "", "output directory (created)")
	meters := fs.Int("meters", 4, "meters")
	gateways := fs.Int("gateways", 2, "gateways")
	setUsage(fs, stderr, "usage: verimeter provision -dir DIR [-meters N] [-gateways N]")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	var bad string
	switch {
	case *dir == "":
		bad = "-dir is required"
	case *gateways < 1:
		bad = fmt.Sprintf("-gateways %d: at least 1 gateway", *gateways)
	case *meters < *gateways:
		bad = fmt.Sprintf("-meters %d is fewer than -gateways %d: every gateway needs a meter", *meters, *gateways)
	case *meters > 200*(*gateways):
		bad = fmt.Sprintf("-meters %d: at most 200 per gateway", *meters)
	case fs.NArg() != 0:
		bad = fmt.Sprintf("unexpected argument %q", fs.Arg(0))
	}
	if bad != "" {
		fmt.Fprintf(stderr, "verimeter provision: %s\n", bad)
		fs.Usage()
		return 2
	}
	if err := provision(*dir, *meters, *gateways, time.Now()); err != nil {
		fmt.Fprintf(stderr, "verimeter provision: %v\n", err)
		return 1
	}
	fmt.Fprintf(stdout, "provisioned %d meters and %d gateways in %s\nrun: verimeter headend serve -config %s\n     verimeter meter run -config %s (each meter)\n     verimeter gateway run -config %s (each gateway)\n",
		*meters, *gateways, *dir, filepath.Join(*dir, "headend.json"), filepath.Join(*dir, "meter-000.json"), filepath.Join(*dir, "gw-00.json"))
	return 0
}

// provision writes a complete deployment for one host. The day measured by
// the simulated meters is yesterday (UTC), so its readings are in the past.
func provision(dir string, nMeters, nGateways int, now time.Time) error {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return err
	}
	dir = abs
	for _, d := range []string{"pki", "sock", "data"} {
		if err := os.MkdirAll(filepath.Join(dir, d), 0o700); err != nil {
			return err
		}
	}
	p := func(parts ...string) string { return filepath.Join(append([]string{dir}, parts...)...) }
	nb := now.Add(-48 * time.Hour)
	h, err := protocol.NewHierarchy(nb, newKey, rand.Reader)
	if err != nil {
		return err
	}
	root, subs := h.Root, h.Subs
	if err := protocol.WriteCertificate(p("pki", "root.crt"), root.Cert); err != nil {
		return err
	}
	// Every CA's certificate and its first (empty) CRL, so a relying party
	// can check revocation from the start (openssl verify -crl_check_all).
	if err := writeCRL(p("pki"), root, nil, now); err != nil {
		return err
	}
	var subPEM []byte
	for _, n := range h.SubNames() {
		subPEM = append(subPEM, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: subs[n].Cert.Raw})...)
		if err := protocol.WriteCertificate(p("pki", n+"-ca.crt"), subs[n].Cert); err != nil {
			return err
		}
		if err := writeCRL(p("pki"), subs[n], nil, now); err != nil {
			return err
		}
	}
	if err := os.WriteFile(p("pki", "subcas.pem"), subPEM, 0o644); err != nil {
		return err
	}
	// issue writes PREFIX.crt (the certificate and its sub-CA, as TLS peers
	// send them) and PREFIX.key for a fresh key.
	issue := func(prefix, ca string, id protocol.Identity, role protocol.Role, validity time.Duration) (*ecdsa.PrivateKey, *x509.Certificate, error) {
		k, err := newKey()
		if err != nil {
			return nil, nil, err
		}
		c, err := subs[ca].Issue(id, []protocol.Role{role}, &k.PublicKey, nb, validity)
		if err != nil {
			return nil, nil, err
		}
		if err := protocol.WriteChain(prefix+".crt", c, subs[ca].Cert); err != nil {
			return nil, nil, err
		}
		return k, c, protocol.WriteKey(prefix+".key", k)
	}
	named := func(cn string) protocol.Identity { return protocol.Identity{CommonName: cn} }
	// The head-end serves TLS on this host: its certificate names the
	// loopback address and localhost, so curl and browsers verify it.
	heTLS := protocol.Identity{CommonName: "head-end", Hosts: []string{"localhost", "127.0.0.1", "::1"}}
	if _, _, err := issue(p("pki", "headend-tls"), "head-end-operator", heTLS, protocol.RoleHeadEnd, protocol.ParticipantValidity); err != nil {
		return err
	}
	cmdKey, _, err := issue(p("pki", "headend-command"), "head-end-operator", named("head-end commands"), protocol.RoleHeadEnd, protocol.ParticipantValidity)
	if err != nil {
		return err
	}
	if _, _, err := issue(p("pki", "headend-log"), "head-end-operator", named("head-end transparency log"), protocol.RoleHeadEnd, protocol.ParticipantValidity); err != nil {
		return err
	}
	opKey, _, err := issue(p("pki", "trust-list-signer"), "gateway-operator", named("trust-list signer"), protocol.RoleTrustListSign, protocol.ParticipantValidity)
	if err != nil {
		return err
	}
	if _, _, err := issue(p("pki", "manufacturer"), "manufacturer", named("manufacturer firmware"), protocol.RoleManufacturer, protocol.ParticipantValidity); err != nil {
		return err
	}
	if _, _, err := issue(p("pki", "authority"), "metrology-authority", named("metrology authority"), protocol.RoleAuthority, protocol.ParticipantValidity); err != nil {
		return err
	}
	for _, s := range []string{"supplier-a", "supplier-b"} {
		if _, _, err := issue(p("pki", s), "market-participant", named(s), protocol.RoleSupplier, protocol.ParticipantValidity); err != nil {
			return err
		}
	}
	// Two head-end operators (commands need a second one's approval):
	// client certificates in role head-end that name no host, for the
	// operator API (verimeter operator -dir DIR -as alice).
	// Their own keys approve commands: the meters' trust lists name them
	// as approvers, and a disconnect runs only with both their approvals.
	var approvers []*ecdsa.PrivateKey
	for _, o := range []string{"alice", "bob"} {
		k, _, err := issue(p("pki", "operator-"+o), "head-end-operator", named("operator "+o), protocol.RoleHeadEnd, protocol.ParticipantValidity)
		if err != nil {
			return err
		}
		approvers = append(approvers, k)
	}
	spki := func(k *ecdsa.PrivateKey) []byte { b, _ := x509.MarshalPKIXPublicKey(&k.PublicKey); return b }
	day := now.UTC().Truncate(24*time.Hour).Unix()/86400 - 1
	dayStart := time.Unix(day*86400, 0).UTC()
	he := headendFile{DB: p("data", "headend.db"), Listen: "127.0.0.1:0", AddrFile: p("headend.addr"),
		TLSCert: p("pki", "headend-tls.crt"), TLSKey: p("pki", "headend-tls.key"), CommandKey: p("pki", "headend-command.key"),
		LogKey: p("pki", "headend-log.key"), TreeHeadEvery: "10s", DisconnectsPerHour: defaultDisconnectsPerHour,
		Roots: p("pki", "root.crt"), SubCAs: p("pki", "subcas.pem"), MeterCerts: p("pki", "meters.pem")}
	var meterPEM []byte
	gws := make([]gatewayFile, nGateways)
	gwKeys := make([]*ecdsa.PrivateKey, nGateways)
	for g := range nGateways {
		name := fmt.Sprintf("gw-%02d", g)
		title := protocol.SystemTitle{'V', 'G', 'W', 0, 0, 0, 0, byte(g)}
		if gwKeys[g], _, err = issue(p("pki", name+"-channel"), "gateway-operator", protocol.DeviceIdentity(title, ""), protocol.RoleGateway, protocol.DeviceValidity); err != nil {
			return err
		}
		if _, _, err := issue(p("pki", name+"-tls"), "gateway-operator", protocol.DeviceIdentity(title, ""), protocol.RoleGateway, protocol.DeviceValidity); err != nil {
			return err
		}
		gws[g] = gatewayFile{Name: name, Title: hex.EncodeToString(title[:]), ChannelKey: p("pki", name+"-channel.key"), TLSCert: p("pki", name+"-tls.crt"), TLSKey: p("pki", name+"-tls.key"),
			Roots: p("pki", "root.crt"), SubCAs: p("pki", "subcas.pem"), HeadEndAddr: he.AddrFile, HeadEndCommandCert: p("pki", "headend-command.crt"), Socket: p("sock", name), Dir: p("data", name), Day: day}
	}
	for i := range nMeters {
		g := i % nGateways
		name := fmt.Sprintf("meter-%03d", i)
		title := protocol.SystemTitle{'V', 'M', 'R', 0, 0, 0, byte(i >> 8), byte(i)}
		_, sc, err := issue(p("pki", name+"-signing"), "manufacturer", protocol.DeviceIdentity(title, ""), protocol.RoleMeterSigning, protocol.DeviceValidity)
		if err != nil {
			return err
		}
		meterPEM = append(meterPEM, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: sc.Raw})...)
		if _, _, err := issue(p("pki", name+"-channel"), "manufacturer", protocol.DeviceIdentity(title, ""), protocol.RoleMeterChannel, protocol.DeviceValidity); err != nil {
			return err
		}
		tl, err := protocol.SignTrustList(protocol.TrustList{Version: 1, Issued: now.Unix(), Meter: title, Entries: append([]protocol.TrustEntry{{Role: protocol.RoleGateway, SPKI: spki(gwKeys[g])}, {Role: protocol.RoleHeadEnd, SPKI: spki(cmdKey)}},
			protocol.TrustEntry{Role: protocol.RoleApprover, SPKI: spki(approvers[0])}, protocol.TrustEntry{Role: protocol.RoleApprover, SPKI: spki(approvers[1])})}, opKey, rand.Reader)
		if err != nil {
			return err
		}
		if err := os.WriteFile(p("pki", name+"-trustlist.bin"), tl, 0o644); err != nil {
			return err
		}
		addr := uint8(16 + i/nGateways)
		mf := meterFile{Title: hex.EncodeToString(title[:]), Model: "VM-E3", SigningKey: p("pki", name+"-signing.key"), ChannelKey: p("pki", name+"-channel.key"),
			TrustList: p("pki", name+"-trustlist.bin"), Operator: p("pki", "trust-list-signer.crt"), Manufacturer: p("pki", "manufacturer.crt"), Authority: p("pki", "authority.crt"),
			Socket: p("sock", name), Gateway: gws[g].Socket, Addr: addr, Dir: p("data", name), Seed: uint64(i + 1), Day: day}
		if err := writeJSON(p(name+".json"), mf); err != nil {
			return err
		}
		gws[g].Meters = append(gws[g].Meters, gatewayMeter{Title: mf.Title, Socket: mf.Socket, Addr: addr, ChannelCert: p("pki", name+"-channel.crt")})
		// Supplier A supplies every meter; supplier B none.
		he.Contracts = append(he.Contracts, contractFile{Participant: "supplier-a", Role: string(protocol.RoleSupplier), Meter: mf.Title, From: dayStart.Format(time.RFC3339), To: dayStart.Add(30 * 24 * time.Hour).Format(time.RFC3339)})
	}
	if err := os.WriteFile(he.MeterCerts, meterPEM, 0o644); err != nil {
		return err
	}
	for g := range gws {
		if err := writeJSON(p(gws[g].Name+".json"), gws[g]); err != nil {
			return err
		}
	}
	return writeJSON(p("headend.json"), he)
}
