package adversary

import (
	"context"
	"crypto/ecdsa"
	"crypto/x509"
	"math/rand/v2"
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
	He        *headend.HeadEnd
	Store     *headend.Store
	Meter     protocol.SystemTitle
	T0        time.Time
	Old, New  *x509.Certificate // suppliers before and after the switch
	Operator  headend.Approver  // may issue disconnects with a second approver
	Supplier  headend.Approver  // may not disconnect at all
	closeFunc func()
}

// Close releases the head-end's database.
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
	if h.Old, err = issue("market-participant", "supplier old", protocol.RoleSupplier, nil, key()); err != nil {
		return nil, err
	}
	if h.New, err = issue("market-participant", "supplier new", protocol.RoleSupplier, nil, key()); err != nil {
		return nil, err
	}
	op, err := issue("head-end-operator", "operator", protocol.RoleHeadEnd, nil, key())
	if err != nil {
		return nil, err
	}
	h.Operator = headend.Approver{Name: "operator", Cert: op}
	h.Supplier = headend.Approver{Name: "supplier old", Cert: h.Old}
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
	now := e.T0.Add(30 * time.Hour)
	h.He = headend.New(headend.Config{Store: h.Store, Meters: dirM, Validator: val, Key: key(), Now: func() time.Time { return now }, Rand: rr, DisconnectsPerHour: 1000})
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
	if err := h.Store.SwitchSupplier(h.Meter, "supplier new", e.T0.Add(12*time.Hour), end); err != nil {
		return nil, err
	}
	return h, nil
}

// HeadEndClasses are the market-side attacks: the old supplier reading
// after the switch, and bulk disconnects without a second approver or by a
// role that may not disconnect.
func HeadEndClasses(h *HeadEndEnv) []Class {
	return []Class{
		{"old supplier reads after the switch", headend.ErrNotEntitled, func(_ *Env, rng *rand.Rand) error {
			from := h.T0.Add(time.Duration(12+rng.IntN(12)) * time.Hour)
			_, err := h.He.Fetch(context.Background(), h.Old, h.Meter, from, from.Add(time.Duration(1+rng.IntN(4))*15*time.Minute))
			return err
		}},
		{"bulk disconnect without a second approver", headend.ErrApproval, func(_ *Env, rng *rand.Rand) error {
			m := h.Meter
			m[7] = byte(rng.IntN(256))
			_, err := h.He.IssueCommand(h.Operator, nil, protocol.Command{Meter: m, Kind: protocol.CmdDisconnect})
			return err
		}},
		{"disconnect by a supplier", headend.ErrRole, func(_ *Env, rng *rand.Rand) error {
			_, err := h.He.IssueCommand(h.Supplier, &h.Operator, protocol.Command{Meter: h.Meter, Kind: protocol.CmdDisconnect})
			return err
		}},
	}
}
