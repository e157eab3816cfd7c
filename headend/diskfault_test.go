package headend

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	sqlite3 "modernc.org/sqlite/lib"

	"github.com/verimeter/verimeter/protocol"
	"github.com/verimeter/verimeter/wan"
)

// TestDiskFullAndReadOnly: while the disk is full or read-only (every
// write of the database fails as the unix VFS fails it on ENOSPC or
// EROFS), a batch gets a typed error and no acknowledgement (HTTP 503),
// a command is not released, and nothing stored before is lost; once
// space returns the same batch is stored exactly once, and the database
// opens clean on the default VFS.
func TestDiskFullAndReadOnly(t *testing.T) {
	registerFaultVFS(t)
	for _, c := range []struct {
		name string
		rc   int32
		want error
	}{
		{"full", sqlite3.SQLITE_FULL, ErrDiskFull},
		{"read-only", sqlite3.SQLITE_READONLY, ErrReadOnly},
	} {
		t.Run(c.name, func(t *testing.T) {
			f := newFixture(t)
			path := filepath.Join(t.TempDir(), "he.db")
			st, err := openSQLite(path, faultVFSName)
			if err != nil {
				t.Fatal(err)
			}
			f.useStore(st)
			ctx := context.Background()
			a := []wan.Item{{Kind: wan.KindBlock, Raw: f.block(t, 1, 0)}, {Kind: wan.KindBlock, Raw: f.block(t, 2, 1)}}
			b := []wan.Item{{Kind: wan.KindBlock, Raw: f.block(t, 3, 2)}, {Kind: wan.KindBlock, Raw: f.block(t, 2, 1)}}
			if _, err := f.he.Ingest(ctx, "gw", a); err != nil {
				t.Fatal(err)
			}
			gw := f.tlsCert(t, f.subs["gateway-operator"], "gw", protocol.RoleGateway)
			body, err := wan.EncodeBatch(b)
			if err != nil {
				t.Fatal(err)
			}

			fault.failWrite.Store(c.rc)
			res, err := f.he.Ingest(ctx, "gw", b)
			if !errors.Is(err, c.want) || !errors.Is(err, ErrStore) {
				fault.failWrite.Store(0)
				t.Fatalf("batch on a %s disk: %+v, %v", c.name, res, err)
			}
			req := httptest.NewRequest("POST", "/v1/ingest", strings.NewReader(string(body)))
			req.TLS = &tls.ConnectionState{PeerCertificates: []*x509.Certificate{gw.Leaf}}
			rec := httptest.NewRecorder()
			f.he.handler().ServeHTTP(rec, req)
			if rec.Code != http.StatusServiceUnavailable || !strings.Contains(rec.Body.String(), c.want.Error()) {
				fault.failWrite.Store(0)
				t.Fatalf("HTTP batch on a %s disk: %d %q", c.name, rec.Code, rec.Body.String())
			}
			cmd, err := f.he.issueCommand(f.alice, nil, protocol.Command{Meter: f.meter, Kind: protocol.CmdTariff, Tariff: 1})
			if !errors.Is(err, c.want) || cmd != nil {
				fault.failWrite.Store(0)
				t.Fatalf("command on a %s disk: %d bytes, %v", c.name, len(cmd), err)
			}
			items, _, err := f.store.Counts()
			fault.failWrite.Store(0)
			if err != nil || items != 2 {
				t.Fatalf("reading on a %s disk: %d items, %v", c.name, items, err)
			}

			res, err = f.he.Ingest(ctx, "gw", b)
			if err != nil || res.Stored != 1 || res.Duplicates != 1 {
				t.Fatalf("after space returned: %+v %v", res, err)
			}
			if _, err := f.he.issueCommand(f.alice, nil, protocol.Command{Meter: f.meter, Kind: protocol.CmdTariff, Tariff: 1}); err != nil {
				t.Fatalf("command after space returned: %v", err)
			}
			if n, err := f.store.commandCounter(f.meter); err != nil || n != 1 {
				t.Fatalf("counter %d (%v), want 1: the refused command took none", n, err)
			}
			if err := f.store.Close(); err != nil {
				t.Fatal(err)
			}
			st2, err := OpenStore(path)
			if err != nil {
				t.Fatal(err)
			}
			defer st2.Close()
			checkIntegrity(t, st2)
			if items, ivs, err := st2.Counts(); err != nil || items != 3 || ivs != 3*96 {
				t.Fatalf("reopened: %d items, %d intervals, %v", items, ivs, err)
			}
		})
	}
}

// checkIntegrity runs SQLite's integrity check.
func checkIntegrity(tb testing.TB, st *Store) {
	tb.Helper()
	var res string
	if err := st.db.QueryRow(`PRAGMA integrity_check`).Scan(&res); err != nil || res != "ok" {
		tb.Fatalf("integrity check: %q %v", res, err)
	}
}

// TestFetchNeverShortWithoutError: a disk error at any read of a
// participant's query (the n-th read of the database fails, for every n)
// gives an error, never a shorter answer: Fetch returns every entitled
// interval or fails.
func TestFetchNeverShortWithoutError(t *testing.T) {
	registerFaultVFS(t)
	f := newFixture(t)
	path := filepath.Join(t.TempDir(), "he.db")
	st, err := openSQLite(path, faultVFSName)
	if err != nil {
		t.Fatal(err)
	}
	f.useStore(st)
	const days = 60
	var items []wan.Item
	for d := range days {
		items = append(items, wan.Item{Kind: wan.KindBlock, Raw: f.block(t, uint64(d+1), d)})
	}
	if _, err := f.he.Ingest(context.Background(), "gw", items); err != nil {
		t.Fatal(err)
	}
	if err := f.store.addContract("supplier A", protocol.RoleSupplier, f.meter, f.t0, f.t0.Add(days*24*time.Hour)); err != nil {
		t.Fatal(err)
	}
	part := f.parts["supplier A"]
	// Past the certificate's validity the rest would be refused anyway;
	// the participant's certificate is checked at f.now.
	full := days * 96
	failed := 0
	for n := int64(0); ; n++ {
		if n > 10000 {
			t.Fatal("the query never completed within 10,000 reads")
		}
		// A cold page cache for every n: the store is opened again.
		f.store.Close()
		st, err := openSQLite(path, faultVFSName)
		if err != nil {
			t.Fatal(err)
		}
		f.useStore(st)
		fault.readsLeft.Store(n)
		p, err := f.he.fetch(context.Background(), part, f.meter, f.t0, f.t0.Add(days*24*time.Hour))
		left := fault.readsLeft.Load()
		fault.readsLeft.Store(-1)
		if err == nil && len(p) != full {
			t.Fatalf("read %d failed: %d of %d intervals and no error", n, len(p), full)
		}
		if err != nil {
			if !errors.Is(err, ErrStore) {
				t.Fatalf("read %d failed: error %v is not ErrStore", n, err)
			}
			failed++
			continue
		}
		if left >= 0 { // the query ran without reaching the failing read
			break
		}
	}
	if failed < 5 {
		t.Fatalf("only %d reads of the query could fail: the test does not reach the rows", failed)
	}
}
