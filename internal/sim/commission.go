package sim

import (
	"crypto/x509"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/verimeter/verimeter/protocol"
)

// checkPKI checks every certificate the deployment holds as a standard
// client would: crypto/x509's own verification, with the root as the only
// trust anchor and the sub-CAs as intermediates.
func (w *world) checkPKI(rep *Report) error {
	roots, inter := x509.NewCertPool(), x509.NewCertPool()
	roots.AddCert(w.root.Cert)
	certs := []*x509.Certificate{w.root.Cert}
	names := make([]string, 0, len(w.subs))
	for n := range w.subs {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		inter.AddCert(w.subs[n].Cert)
		certs = append(certs, w.subs[n].Cert)
	}
	parts := make([]string, 0, len(w.parts))
	for n := range w.parts {
		parts = append(parts, n)
	}
	sort.Strings(parts)
	for _, n := range parts {
		certs = append(certs, w.parts[n])
	}
	certs = append(certs, w.opCerts...)
	for _, n := range w.meters {
		certs = append(certs, n.cert)
	}
	var failed []string
	for _, c := range certs {
		_, err := c.Verify(x509.VerifyOptions{Roots: roots, Intermediates: inter, CurrentTime: w.t0, KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageAny}})
		if err != nil {
			failed = append(failed, fmt.Sprintf("%s: %v", c.Subject, err))
			continue
		}
		rep.Fig.CertsChained++
	}
	rep.Fig.CertsChecked = len(certs)
	rep.add(StepPKI, "certificates chain to the root (crypto/x509, root as only anchor)", rep.Fig.CertsChained == len(certs),
		fmt.Sprintf("%d of %d certificates: root, %d sub-CAs, %d participants, 2 operators, %s", rep.Fig.CertsChained, len(certs), len(names), len(parts), plural(len(w.meters), "meter")),
		fmt.Sprintf("all %d", len(certs)), strings.Join(failed, "\n"))
	return nil
}

// commission runs UC1 for every meter (a signed ephemeral ECDH key
// agreement with its gateway over the PLC segment) and enters the
// contracts.
func (w *world) commission(rep *Report) error {
	var air time.Duration
	for _, g := range w.gws {
		air -= g.seg.Medium().TotalAirtime()
	}
	var failed []string
	for i, n := range w.meters {
		if err := n.gw.g.Commission(n.cfg.Title, n.channelPub); err != nil {
			failed = append(failed, fmt.Sprintf("meter %x: %v", n.cfg.Title, err))
			continue
		}
		rep.Fig.Commissioned++
		n.supplier = "supplier Nordstrom"
		if i%2 == 1 {
			n.supplier = "supplier Suedwind"
		}
		if i == 2 {
			n.supplier = "supplier Lapsed"
		}
		// Every tenth meter switches supplier at noon (meter 0 always, so
		// that one meter is enough for the step).
		n.switched = i%10 == 0 && i != 2
		end := w.t0.Add(time.Duration(w.cfg.Days) * 24 * time.Hour)
		if _, err := w.store.SeedContract(n.supplier, protocol.RoleSupplier, n.cfg.Title, w.t0, end); err != nil {
			return err
		}
		if _, err := w.store.SeedContract("grid operator Netz", protocol.RoleGridOperator, n.cfg.Title, w.t0, end); err != nil {
			return err
		}
		w.progress(i+1, len(w.meters), "commissioning (signed key agreement)")
	}
	for _, g := range w.gws {
		air += g.seg.Medium().TotalAirtime()
	}
	rep.add(StepCommission, "meters commissioned by their gateway (signed ECDH key agreement)", rep.Fig.Commissioned == len(w.meters),
		fmt.Sprintf("%d of %d meters on %s, %.0f s airtime", rep.Fig.Commissioned, len(w.meters), plural(len(w.gws), "segment"), air.Seconds()),
		fmt.Sprintf("all %d", len(w.meters)), strings.Join(failed, "\n"))
	if len(failed) > 0 {
		return fmt.Errorf("%d meters not commissioned", len(failed))
	}
	return nil
}
