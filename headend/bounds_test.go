package headend

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/verimeter/verimeter/protocol"
	"github.com/verimeter/verimeter/wan"
)

// TestCommandMachineFloodBoundedCountersKept: an issuer names thousands of
// meter titles in refused commands (a bulk disconnect without a second
// approver); the head-end keeps at most Config.commandMachines machines in
// memory, and an honest meter's command counter, whose machine the flood
// pushed out, continues where it was: the next command is still the next
// counter, never a repeat the meter would refuse.
func TestCommandMachineFloodBoundedCountersKept(t *testing.T) {
	f := newFixture(t)
	f.he.cfg.commandMachines = 16
	keys := func(kid []byte) (*ecdsa.PublicKey, func(protocol.CommandKind) bool, error) {
		return &f.he.cfg.Key.PublicKey, func(protocol.CommandKind) bool { return true }, nil
	}
	tariff := protocol.Command{Meter: f.meter, Kind: protocol.CmdTariff, Tariff: 2}
	counter := func() uint64 {
		t.Helper()
		signed, err := f.he.issueCommand(f.alice, nil, tariff)
		if err != nil {
			t.Fatalf("honest tariff command: %v", err)
		}
		c, err := protocol.VerifyCommand(signed, f.meter, keys)
		if err != nil {
			t.Fatal(err)
		}
		return c.Counter
	}
	first := counter()
	for i := range 400 {
		m := protocol.SystemTitle{'X', 0, 0, 0, 0, 0, byte(i >> 8), byte(i)}
		if _, err := f.he.issueCommand(f.alice, nil, protocol.Command{Meter: m, Kind: protocol.CmdDisconnect}); !errors.Is(err, ErrApproval) {
			t.Fatalf("flood command %d: %v, want ErrApproval", i, err)
		}
		if n := len(f.he.cmds); n > f.he.cfg.commandMachines {
			t.Fatalf("after %d flood commands the head-end keeps %d command machines, at most %d", i+1, n, f.he.cfg.commandMachines)
		}
	}
	_, kept := f.he.cmds[f.meter]
	if next := counter(); next != first+1 {
		t.Fatalf("honest meter's counter after the flood: %d, want %d (machine kept in memory: %v)", next, first+1, kept)
	}
}

// TestStalledRequestsEndedHonestIngestGoesOn: connections that send half a
// batch and then nothing (a half-open WAN path, or a gateway holding
// sockets on purpose) are closed by the server once its read bound is
// over, and meanwhile an honest gateway's batch is ingested. The bounds
// come from Server; the test only shortens them.
func TestStalledRequestsEndedHonestIngestGoesOn(t *testing.T) {
	f := newFixture(t)
	serverCert := f.tlsCert(t, f.subs["head-end-operator"], "head-end", protocol.RoleHeadEnd)
	gw := f.tlsCert(t, f.subs["gateway-operator"], "gw-1", protocol.RoleGateway)
	srv := f.he.Server(log.New(io.Discard, "", 0))
	if srv.ReadHeaderTimeout <= 0 || srv.ReadTimeout <= 0 || srv.IdleTimeout <= 0 || srv.MaxHeaderBytes <= 0 {
		t.Fatalf("server without bounds: header %v, read %v, idle %v, header bytes %d", srv.ReadHeaderTimeout, srv.ReadTimeout, srv.IdleTimeout, srv.MaxHeaderBytes)
	}
	const bound = 300 * time.Millisecond
	srv.ReadTimeout = min(srv.ReadTimeout, bound)
	srv.ReadHeaderTimeout = min(srv.ReadHeaderTimeout, bound)
	srv.IdleTimeout = min(srv.IdleTimeout, bound)
	ln, err := tls.Listen("tcp", "127.0.0.1:0", TLSConfig(serverCert))
	if err != nil {
		t.Fatal(err)
	}
	go srv.Serve(ln)
	defer srv.Close()
	const stalled = 20
	conns := make([]*tls.Conn, stalled)
	for i := range conns {
		c, err := tls.Dial("tcp", ln.Addr().String(), &tls.Config{MinVersion: tls.VersionTLS13, Certificates: []tls.Certificate{gw}, InsecureSkipVerify: true})
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		fmt.Fprintf(c, "POST /v1/ingest HTTP/1.1\r\nHost: h\r\nContent-Type: application/cbor\r\nContent-Length: 1000\r\n\r\n%s", strings.Repeat("x", 10))
		conns[i] = c
	}
	body, _ := wan.EncodeBatch([]wan.Item{{Kind: wan.KindBlock, Raw: f.block(t, 1, 0)}})
	resp, err := client(gw).Post("https://"+ln.Addr().String()+"/v1/ingest", "application/cbor", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	var rep wan.IngestReply
	if resp.StatusCode != http.StatusOK || json.Unmarshal(b, &rep) != nil || rep.Stored != 1 {
		t.Fatalf("honest ingest beside %d stalled requests: %s %s", stalled, resp.Status, b)
	}
	for i, c := range conns {
		c.SetReadDeadline(time.Now().Add(10 * bound))
		got, err := io.ReadAll(c)
		if ne, ok := err.(net.Error); ok && ne.Timeout() {
			t.Fatalf("stalled request %d still open after %v (read %q)", i, 10*bound, got)
		}
		if strings.Contains(string(got), "200 OK") {
			t.Fatalf("stalled request %d was answered 200: %q", i, got)
		}
	}
	if items, _, err := f.store.Counts(); err != nil || items != 1 {
		t.Fatalf("%d items stored (%v), want the honest one only", items, err)
	}
}
