// Package gateway is the gateway role: it commissions its meters (a signed
// ephemeral key agreement per meter, UC1), runs the collection schedule over
// PLC (UC2, UC3), relays commands and firmware (UC4, UC5), and forwards the
// meters' signed data to the head-end through a persisted store-and-forward
// queue, so no reading is lost while the WAN is down or across a restart.
// The gateway never listens on the WAN: it connects out (Uplink). The queue
// (queue.go) is a journal (statemachine/journal) compacted to the
// unacknowledged items; a corrupt one stops the gateway with a
// *journal.CorruptError naming the record, and an item it could not make
// durable is never taken from the meter (CollectDay fails).
// A batch
// is acknowledged in the queue only on the head-end's commit reply (Flush);
// Forward retries WAN faults with jittered exponential backoff, relying on
// the head-end's ingest being idempotent on (meter, counter). What a peer
// can make the gateway hold is bounded (bounds.go): refusals kept, answers
// per exchange, command state only for commissioned meters.
//
// An APDU from a meter is opened on the generated machine of
// spec/Channel.tla (channel.go): protocol.Opener checks its GCM tag first,
// the outcome is the auth field of the machine's Receive event, and the
// machine decides (a counter in seen is a replay; a forgery changes
// nothing; an authentic APDU enters seen). The machine's seen is the RFC
// 6479 window, reached per counter; a key agreement is the machine's Rekey
// (the next epoch, an empty window).
//
// The gateway reaches its meters through a medium, the PLC interface:
// SocketPLC (socketplc.go) between processes, a PLC modem driver on
// hardware, and the simulated segment of internal/sim (seeded medium,
// attacker tap) in the demo and the tests. The medium may call a Tap with
// every APDU it carries (medium.go).
//
// Tamper events (UC9, tamper.go) pass through the gateway on its generated
// machine of spec/Tamper.tla, one per meter: it collects a meter's signed
// events (PDUTamperEvents), queues each once in a journal of its own, uploads
// them (TamperUplink, POST /v1/tamper) and drops one only on the head-end's
// signed acknowledgement, which it relays to the meter (PDUTamperAcks). It
// holds no key that could make or check an event.
//
// A gateway counts for its operators (stats.go) its queue's depth, the
// items it uploaded and the head-end acknowledged, failed uploads, the
// APDUs it refused from its meters by wan.RejectClass (Refused.ByClass)
// and what its PLC link carried, airtime included (SocketPLC.Stats): plain
// atomic counters that another goroutine reads, so a device build links no
// metrics library; `verimeter gateway run -metrics ADDR` serves them to
// Prometheus.
package gateway
