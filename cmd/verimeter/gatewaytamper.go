package main

import (
	"context"
	"fmt"
	"io"

	"github.com/verimeter/verimeter/gateway"
	"github.com/verimeter/verimeter/protocol"
)

// forwardTamper uploads the tamper events the gateway collected from its
// meters (UC9) and relays the head-end's signed acknowledgements to each
// meter, which forgets an event only on one that verifies.
func forwardTamper(g *gateway.Gateway, up gateway.TamperUplink, meters []gatewayMeter, stdout io.Writer) error {
	acked, err := g.UploadTamper(context.Background(), up)
	if err != nil {
		return fmt.Errorf("tamper events: %w", err)
	}
	relayed := 0
	for _, m := range meters {
		mt, err := protocol.ParseSystemTitle(m.Title)
		if err != nil {
			return err
		}
		n, err := g.RelayTamperAcks(mt)
		if err != nil {
			return fmt.Errorf("tamper acknowledgements to %s: %w", m.Title, err)
		}
		relayed += n
	}
	fmt.Fprintf(stdout, "%s: %d tamper events acknowledged by the head-end, %d acknowledgements relayed to meters\n", g.Name(), acked, relayed)
	return nil
}

// relayDataAcks relays the head-end's end-to-end acknowledgements of the
// items this run forwarded to their meters, which forget an item only on
// its acknowledgement (spec/Collection.tla, EndToEndAcked).
func relayDataAcks(g *gateway.Gateway, meters []gatewayMeter, stdout io.Writer) error {
	relayed := 0
	for _, m := range meters {
		mt, err := protocol.ParseSystemTitle(m.Title)
		if err != nil {
			return err
		}
		n, err := g.RelayAcks(mt)
		if err != nil {
			return fmt.Errorf("acknowledgements to %s: %w", m.Title, err)
		}
		relayed += n
	}
	fmt.Fprintf(stdout, "%s: %d acknowledgements of stored items relayed to meters\n", g.Name(), relayed)
	return nil
}
