package adversary

import (
	"context"
	"crypto/ecdsa"
	"crypto/x509"
	"encoding/hex"
	"math/rand/v2"
	"net/http"
	"path/filepath"
	"time"

	"github.com/verimeter/verimeter/headend"
	"github.com/verimeter/verimeter/internal/sim"
	"github.com/verimeter/verimeter/protocol"
	"github.com/verimeter/verimeter/wan"
)

// HeadEndEnv is a head-end with one meter's day stored and a supplier
// switch at noon, for the classes that attack the market side.
type HeadEndEnv struct {
	He       *headend.HeadEnd
	Store    *headend.Store
	Meter    protocol.SystemTitle
	T0       time.Time
	Old, New *x509.Certificate // suppliers before and after the switch
	// Operator and Supplier (the supplier before the switch) reach the
	// head-end over its network API, with their certificates: an operator
	// may request a disconnect that a second operator approves; a
	// supplier is no operator at all.
	Operator, Supplier *sim.APIClient
	closeFunc          func()
}

// Close stops serving the head-end and releases its database.
func (h *HeadEndEnv) Close() { h.closeFunc() }

// NewHeadEndEnv builds the market-side target in dir.
func NewHeadEndEnv(rng *rand.Rand, dir string) (*HeadEndEnv, error) {
	e, err := NewEnv(rng)
	if err != nil {
		return nil, err
	}
	rr := rngReader{rng}
	h := &HeadEndEnv{Meter: e.MeterTitle, T0: e.T0}
	pki, err := sim.NewPKI(e.T0.Add(-time.Hour), rr)
	if err != nil {
		return nil, err
	}
	key := pki.Key
	issue := func(ca, cn string, role protocol.Role, st *protocol.SystemTitle, k *ecdsa.PrivateKey) (*x509.Certificate, error) {
		return pki.Issue(ca, protocol.Identity{CommonName: cn, SystemTitle: st}, role, &k.PublicKey, e.T0.Add(-time.Hour), 365*24*time.Hour)
	}
	mk := key()
	mc, err := issue("manufacturer", "meter", protocol.RoleMeterSigning, &h.Meter, mk)
	if err != nil {
		return nil, err
	}
	oldKey := key()
	if h.Old, err = issue("market-participant", "supplier old", protocol.RoleSupplier, nil, oldKey); err != nil {
		return nil, err
	}
	if h.New, err = issue("market-participant", "supplier new", protocol.RoleSupplier, nil, key()); err != nil {
		return nil, err
	}
	opKey := key()
	op, err := issue("head-end-operator", "operator", protocol.RoleHeadEnd, nil, opKey)
	if err != nil {
		return nil, err
	}
	val, err := pki.Validator()
	if err != nil {
		return nil, err
	}
	dirM, err := protocol.NewMeterDirectory(val, []*x509.Certificate{mc})
	if err != nil {
		return nil, err
	}
	if h.Store, err = headend.OpenStore(filepath.Join(dir, "market.db")); err != nil {
		return nil, err
	}
	h.closeFunc = func() { h.Store.Close() }
	now := func() time.Time { return e.T0.Add(30 * time.Hour) }
	h.He = headend.New(headend.Config{Store: h.Store, Meters: dirM, Validator: val, Key: key(), Now: now, Rand: rr})
	srv, err := sim.ServeHeadEnd(h.He, pki, e.T0.Add(-time.Hour))
	if err != nil {
		h.Store.Close()
		return nil, err
	}
	h.closeFunc = func() { srv.Close(); h.Store.Close() }
	h.Operator, h.Supplier = srv.Client(op, opKey, now), srv.Client(h.Old, oldKey, now)
	signer, err := protocol.NewMeterSigner(h.Meter, mk, rr)
	if err != nil {
		return nil, err
	}
	iv := make([]protocol.Interval, 96)
	for i := range iv {
		iv[i] = protocol.Interval{Index: uint16(i), Value: uint32(100 + i)}
	}
	blk, err := signer.SignBlock(protocol.BlockHeader{Meter: h.Meter, Counter: 1, Start: e.T0.Unix(), Period: 900, OBIS: protocol.ActiveEnergyImport}, iv)
	if err != nil {
		return nil, err
	}
	raw, err := blk.Marshal()
	if err != nil {
		return nil, err
	}
	if _, err := h.He.Ingest(context.Background(), "gw", []wan.Item{{Kind: wan.KindBlock, Raw: raw}}); err != nil {
		return nil, err
	}
	end := e.T0.Add(48 * time.Hour)
	if _, err := h.Store.SeedContract("supplier old", protocol.RoleSupplier, h.Meter, e.T0, end); err != nil {
		return nil, err
	}
	if err := h.Operator.SwitchSupplier(context.Background(), h.Meter, "supplier new", e.T0.Add(12*time.Hour), end); err != nil {
		return nil, err
	}
	return h, nil
}

// HeadEndClasses are the market-side attacks, through the head-end's
// network API as a deployment serves it: the old supplier reading after
// the switch, and bulk disconnects approved by their own requester or
// requested by a role that may not disconnect. Each is refused with the
// status and class (or, on the participants' API, the reason named in the
// answer) it expects.
func HeadEndClasses(h *HeadEndEnv) []Class {
	ctx := context.Background()
	return []Class{
		{"old supplier reads after the switch", &sim.APIError{Status: http.StatusForbidden, Msg: headend.ErrNotEntitled.Error()}, func(_ *Env, rng *rand.Rand) error {
			from := h.T0.Add(time.Duration(12+rng.IntN(12)) * time.Hour)
			_, err := h.Supplier.Intervals(ctx, h.Meter, from, from.Add(time.Duration(1+rng.IntN(4))*15*time.Minute))
			return err
		}},
		{"bulk disconnect without a second approver", &sim.APIError{Status: http.StatusConflict, Class: wan.ClassSameOperator}, func(_ *Env, rng *rand.Rand) error {
			m := h.Meter
			m[7] = byte(rng.IntN(256))
			c, err := h.Operator.RequestCommand(ctx, wan.CommandRequest{Meter: hex.EncodeToString(m[:]), Kind: "disconnect"})
			if err != nil {
				return err
			}
			_, err = h.Operator.ApproveCommand(ctx, c.ID)
			return err
		}},
		{"disconnect by a supplier", &sim.APIError{Status: http.StatusForbidden, Class: wan.ClassForbidden}, func(_ *Env, rng *rand.Rand) error {
			_, err := h.Supplier.RequestCommand(ctx, wan.CommandRequest{Meter: hex.EncodeToString(h.Meter[:]), Kind: "disconnect"})
			return err
		}},
	}
}
