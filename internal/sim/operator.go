package sim

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"time"

	"github.com/verimeter/verimeter/gateway"
	"github.com/verimeter/verimeter/protocol"
	"github.com/verimeter/verimeter/wan"
)

// operatorChange hands the meters of gateway 0's segment to a new gateway
// operator (UC6): the head-end sends each meter an operator-signed trust
// list (version 2) naming the new gateway, relayed by the old one; the new
// gateway then commissions them, and the old gateway is refused.
func (w *world) operatorChange(rep *Report) error {
	old := w.gws[0]
	nk := key()
	title := protocol.SystemTitle{'V', 'G', 'W', 0, 0, 1, 0, 0}
	if _, err := w.subs["gateway-operator"].Issue(protocol.DeviceIdentity(title, ""), []protocol.Role{protocol.RoleGateway}, &nk.PublicKey, w.now.Add(-time.Hour), protocol.DeviceValidity); err != nil {
		return err
	}
	cfg := gateway.Config{Name: "gw-new-operator", Title: title, ChannelKey: nk, Rand: rand.Reader, Segment: old.seg, Trace: w.traces}
	ng, err := gateway.New(cfg)
	if err != nil {
		return err
	}
	node := &gwNode{name: cfg.Name, cfg: cfg, g: ng, seg: old.seg}
	w.gws = append(w.gws, node)
	ctx := context.Background()
	moved, refused := 0, 0
	for _, n := range w.meters {
		if n.gw != old {
			continue
		}
		n.gw = node // from now on the meter answers only the new operator's gateway
		tl, err := protocol.SignTrustList(protocol.TrustList{Version: 2, Issued: w.now.Unix(), Meter: n.cfg.Title, Entries: w.trustEntries(spkiOf(nk))}, w.op, rand.Reader)
		if err != nil {
			return err
		}
		c, err := w.command(ctx, n.cfg.Title, wan.CommandRequest{Kind: "trust-list", TrustList: base64.StdEncoding.EncodeToString(tl)})
		if err != nil {
			return err
		}
		if err := old.g.Command(n.cfg.Title, c); err != nil { // the old operator relays the hand-over
			return fmt.Errorf("trust list to %x: %w", n.cfg.Title, err)
		}
		if err := ng.Commission(n.cfg.Title, n.channelPub); err != nil {
			return fmt.Errorf("new operator commissioning %x: %w", n.cfg.Title, err)
		}
		if _, err := ng.ReadNow(n.cfg.Title); err != nil {
			return fmt.Errorf("new operator reading %x: %w", n.cfg.Title, err)
		}
		moved++
		if err := old.g.Commission(n.cfg.Title, n.channelPub); errors.Is(err, gateway.ErrMeterRefus) {
			refused++
		}
	}
	sent, res, err := ng.Flush(ctx, uplink{w}, 500)
	if err != nil {
		return err
	}
	f := &rep.Fig
	f.Moved, f.OldGatewayRefused, f.MovedStored = moved, refused, res.Stored
	rep.add(StepOperator, "meters take the new trust list, the new operator's gateway commissions and reads them", moved > 0 && sent == moved && res.Stored == moved,
		fmt.Sprintf("%d of %d meters of segment %s; %d readings stored", moved, moved, old.name, res.Stored),
		fmt.Sprintf("all %d, one reading each", moved), "")
	rep.add(StepOperator, "old operator's gateway refused by the meters", refused == moved,
		fmt.Sprintf("%d of %d commissioning attempts refused", refused, moved), "all, refused by the meter", "")
	return nil
}
