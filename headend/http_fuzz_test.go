package headend

import (
	"bytes"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"testing"
	"time"

	"github.com/verimeter/verimeter/protocol"
	"github.com/verimeter/verimeter/wan"
)

// FuzzHTTPAPI drives the head-end's http.Handler (no network) with any
// method, path, query, body and client: none, a gateway, an entitled
// supplier, one without a contract, a revoked one, or an operator. Whatever
// comes in, the handler must not panic, must answer 2xx or 4xx (a 5xx would
// be a server fault on bad input), nothing already stored may be lost, and
// only a gateway may add anything.
func FuzzHTTPAPI(f *testing.F) {
	fx := newFixture(f)
	blk := fx.block(f, 1, 0)
	if _, err := fx.he.Ingest(f.Context(), "gw", []wan.Item{{Kind: wan.KindBlock, Raw: blk}}); err != nil {
		f.Fatal(err)
	}
	if err := fx.store.addContract("supplier A", protocol.RoleSupplier, fx.meter, fx.t0, fx.t0.Add(48*time.Hour)); err != nil {
		f.Fatal(err)
	}
	clients := []*x509.Certificate{
		nil,
		fx.tlsCert(f, fx.subs["gateway-operator"], "gw-1", protocol.RoleGateway).Leaf,
		fx.parts["supplier A"],
		fx.parts["supplier B"],
		fx.parts["supplier R"], // revoked
		fx.alice.Cert,
	}
	snapshot := func(t *testing.T) map[string]bool {
		m := map[string]bool{}
		if err := fx.store.Each(func(_ wan.Kind, raw []byte) { m[string(raw)] = true }); err != nil {
			t.Fatal(err)
		}
		return m
	}
	batch, err := wan.EncodeBatch([]wan.Item{{Kind: wan.KindBlock, Raw: fx.block(f, 2, 1)}, {Kind: wan.KindBlock, Raw: blk}})
	if err != nil {
		f.Fatal(err)
	}
	day := fx.t0.Format(time.RFC3339)
	next := fx.t0.Add(24 * time.Hour).Format(time.RFC3339)
	intervals := fmt.Sprintf("/v1/meters/%x/intervals", fx.meter[:])
	f.Add("POST", "/v1/ingest", "", batch, uint8(1))
	f.Add("POST", "/v1/ingest", "", []byte{0x81, 0x82, 0x02, 0x41, 0x00}, uint8(1))
	f.Add("POST", "/v1/ingest", "", batch, uint8(2))
	f.Add("GET", intervals, "from="+day+"&to="+next, []byte(nil), uint8(2))
	f.Add("GET", intervals, "from="+next+"&to="+day, []byte(nil), uint8(2))
	f.Add("GET", intervals, "from="+day+"&to="+next, []byte(nil), uint8(3))
	f.Add("GET", intervals, "from="+day+"&to="+next, []byte(nil), uint8(4))
	f.Add("GET", "/v1/meters/zz/intervals", "from=x", []byte(nil), uint8(2))
	f.Add("DELETE", "/v1/ingest", "", []byte(nil), uint8(1))
	f.Add("GET", "//v1/../v1/ingest", "", []byte(nil), uint8(0))
	h := fx.he.handler()
	f.Fuzz(func(t *testing.T, method, path, query string, body []byte, who uint8) {
		before := snapshot(t)
		req := &http.Request{
			Method:     method,
			URL:        &url.URL{Path: path, RawQuery: query},
			Proto:      "HTTP/1.1",
			ProtoMajor: 1, ProtoMinor: 1,
			Header:        http.Header{},
			Body:          io.NopCloser(bytes.NewReader(body)),
			ContentLength: int64(len(body)),
			Host:          "head-end",
			RemoteAddr:    "192.0.2.1:4711",
			RequestURI:    path,
		}
		req = req.WithContext(t.Context())
		if c := clients[int(who)%len(clients)]; c != nil {
			req.TLS = &tls.ConnectionState{Version: tls.VersionTLS13, HandshakeComplete: true, PeerCertificates: []*x509.Certificate{c}}
		}
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if code := rec.Code; code/100 != 2 && code/100 != 4 {
			t.Fatalf("%q %q ?%q (client %d): status %d %q", method, path, query, who, code, rec.Body.String())
		}
		after := snapshot(t)
		for raw := range before {
			if !after[raw] {
				t.Fatalf("%q %q ?%q: a stored item was lost (%d before, %d after)", method, path, query, len(before), len(after))
			}
		}
		if int(who)%len(clients) != 1 && len(after) != len(before) {
			t.Fatalf("%q %q ?%q: client %d, not a gateway, stored %d items", method, path, query, who, len(after)-len(before))
		}
	})
}
