package headend

import (
	"context"
	"crypto/tls"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"log"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/verimeter/verimeter/protocol"
	"github.com/verimeter/verimeter/protocol/translog"
	"github.com/verimeter/verimeter/wan"
)

// tlsCert issues a certificate for role from the fixture's PKI as a
// tls.Certificate.
func (f *fixture) tlsCert(t testing.TB, ca *protocol.CA, cn string, role protocol.Role) tls.Certificate {
	k := key(t)
	c, err := ca.Issue(protocol.Identity{CommonName: cn}, []protocol.Role{role}, &k.PublicKey, f.t0.Add(-time.Hour), 365*24*time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	return tls.Certificate{Certificate: [][]byte{c.Raw}, PrivateKey: k, Leaf: c}
}

func client(cert tls.Certificate) *http.Client {
	return &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{MinVersion: tls.VersionTLS13, Certificates: []tls.Certificate{cert}, InsecureSkipVerify: true}}}
}

func TestHTTPSIngestAndParticipantAPI(t *testing.T) {
	f := newFixture(t)
	server := f.tlsCert(t, f.subs["head-end-operator"], "head-end", protocol.RoleHeadEnd)
	gw := f.tlsCert(t, f.subs["gateway-operator"], "gw-1", protocol.RoleGateway)
	supA := f.tlsCert(t, f.subs["market-participant"], "supplier A", protocol.RoleSupplier)
	supB := f.tlsCert(t, f.subs["market-participant"], "supplier B", protocol.RoleSupplier)
	ln, err := tls.Listen("tcp", "127.0.0.1:0", TLSConfig(server))
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: f.he.handler(), ReadHeaderTimeout: 5 * time.Second, ErrorLog: log.New(io.Discard, "", 0)}
	go srv.Serve(ln)
	defer srv.Shutdown(context.Background())
	base := "https://" + ln.Addr().String()

	body, _ := wan.EncodeBatch([]wan.Item{{Kind: wan.KindBlock, Raw: f.block(t, 1, 0)}})
	post := func(c tls.Certificate) (*http.Response, string) {
		resp, err := client(c).Post(base+"/v1/ingest", "application/cbor", strings.NewReader(string(body)))
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp, string(b)
	}
	if resp, b := post(supA); resp.StatusCode != http.StatusForbidden {
		t.Fatalf("a supplier posting readings: %s %s", resp.Status, b)
	}
	resp, b := post(gw)
	var rep wan.IngestReply
	if resp.StatusCode != http.StatusOK || json.Unmarshal([]byte(b), &rep) != nil || rep.Stored != 1 || rep.Intervals != 96 {
		t.Fatalf("gateway ingest: %s %s", resp.Status, b)
	}
	f.store.addContract("supplier A", protocol.RoleSupplier, f.meter, f.t0, f.t0.Add(48*time.Hour))
	get := func(c tls.Certificate) (*http.Response, string) {
		u := fmt.Sprintf("%s/v1/meters/%x/intervals?from=%s&to=%s", base, f.meter[:], f.t0.Format(time.RFC3339), f.t0.Add(24*time.Hour).Format(time.RFC3339))
		resp, err := client(c).Get(u)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp, string(b)
	}
	resp, b = get(supA)
	var pr wan.ProofReply
	if resp.StatusCode != http.StatusOK || json.Unmarshal([]byte(b), &pr) != nil || len(pr.Proofs) != 96 {
		t.Fatalf("entitled supplier: %s %.200s", resp.Status, b)
	}
	raw, _ := base64.StdEncoding.DecodeString(pr.Proofs[17])
	p, err := protocol.UnmarshalIntervalProof(raw)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.outsider.VerifyInterval(p); err != nil {
		t.Fatalf("proof from the API does not verify offline: %v", err)
	}
	// No tree head yet: no evidence. After one, every interval comes with
	// its block's inclusion proof into it.
	if len(pr.Evidence) != 96 || pr.Evidence[17] != "" {
		t.Fatalf("evidence before any tree head: %d entries, %.40q", len(pr.Evidence), pr.Evidence[17])
	}
	logKey := key(t)
	f.he.cfg.LogKey = logKey
	if _, err := f.he.signTreeHead(context.Background()); err != nil {
		t.Fatal(err)
	}
	resp, b = get(supA)
	if resp.StatusCode != http.StatusOK || json.Unmarshal([]byte(b), &pr) != nil || len(pr.Evidence) != 96 {
		t.Fatalf("evidence after a tree head: %s %.200s", resp.Status, b)
	}
	eb, _ := base64.StdEncoding.DecodeString(pr.Evidence[17])
	ev, err := translog.UnmarshalEvidence(eb)
	if err != nil {
		t.Fatal(err)
	}
	if err := ev.TreeHead.Verify(&logKey.PublicKey); err != nil {
		t.Fatal(err)
	}
	if err := ev.VerifyLeaf(p.Sign1); err != nil {
		t.Fatalf("evidence from the API does not prove the interval's block: %v", err)
	}
	// Tree heads and consistency for gossip: a second block, a second tree
	// head, and the proof that it extends the first.
	getJSON := func(c tls.Certificate, path string, v any) int {
		resp, err := client(c).Get(base + path)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		if resp.StatusCode == http.StatusOK {
			if err := json.Unmarshal(b, v); err != nil {
				t.Fatalf("%s: %v", path, err)
			}
		}
		return resp.StatusCode
	}
	if _, err := f.he.Ingest(context.Background(), "gw", []wan.Item{{Kind: wan.KindBlock, Raw: f.block(t, 2, 1)}}); err != nil {
		t.Fatal(err)
	}
	if _, err := f.he.signTreeHead(context.Background()); err != nil {
		t.Fatal(err)
	}
	var th wan.TreeHeadReply
	if code := getJSON(supA, "/v1/log/tree-head", &th); code != http.StatusOK {
		t.Fatalf("tree head: %d", code)
	}
	thb, _ := base64.StdEncoding.DecodeString(th.TreeHead)
	latest, err := translog.ParseSignedTreeHead(thb)
	if err != nil || latest.Size != 2 || latest.Verify(&logKey.PublicKey) != nil {
		t.Fatalf("latest tree head: %+v %v", latest, err)
	}
	var cr wan.ConsistencyReply
	if code := getJSON(supA, "/v1/log/consistency?from=1", &cr); code != http.StatusOK {
		t.Fatalf("consistency: %d", code)
	}
	cb, _ := base64.StdEncoding.DecodeString(cr.Consistency)
	cons, err := translog.UnmarshalConsistency(cb)
	if err != nil || cons.Old.Size != 1 || cons.New.Size != 2 || cons.Verify() != nil {
		t.Fatalf("consistency 1..2: %+v %v", cons, err)
	}
	if code := getJSON(supA, "/v1/log/consistency?from=5", &cr); code != http.StatusNotFound {
		t.Fatalf("consistency from a size never signed: %d", code)
	}
	if code := getJSON(gw, "/v1/log/tree-head", &th); code != http.StatusForbidden {
		t.Fatalf("a gateway reading tree heads: %d", code)
	}
	resp, b = get(supB)
	if resp.StatusCode != http.StatusForbidden || !strings.Contains(b, "no contract") {
		t.Fatalf("supplier without contract: %s %s", resp.Status, b)
	}
	// No client certificate: the TLS handshake itself fails.
	noCert := &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{InsecureSkipVerify: true}}}
	if _, err := noCert.Get(base + "/v1/ingest"); err == nil {
		t.Fatal("a client without a certificate was served")
	}
}
