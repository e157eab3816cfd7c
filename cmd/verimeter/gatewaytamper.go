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
