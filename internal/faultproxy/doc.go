// Package faultproxy is a fault-injecting TCP proxy for tests and campaigns:
// it sits between gateways and the head-end on 127.0.0.1 and, seeded and
// counted, drops connections, resets them in the middle of a request,
// delays them, leaves them half open (nothing forwarded, nothing closed),
// loses the head-end's answer after the head-end received the whole request,
// and replays a whole client stream on a fresh connection after it was
// answered. It works on bytes, below TLS, as an attacker or a broken network
// on the WAN would (DESIGN.md: Dolev–Yao on the WAN): it can cut, hold and
// repeat what passes but cannot read or forge it.
//
// It is part of the simulated world, not of any role: production packages
// never import it. The crash campaign (cmd/verimeter) puts it between the
// gateway and head-end processes and checks that nothing is lost or stored
// twice however many faults it injects.
package faultproxy
