// Package plc is the power-line binding between meters and their gateway.
//
// It implements the HDLC frame type 3 of IEC 62056-46 (the DLMS/COSEM
// data-link layer used over PLC and serial lines): 0x7E flags, a frame format
// field with an 11-bit length instead of byte stuffing, extensible addresses, a
// control field, a header check sequence (HCS) and a frame check sequence
// (FCS), both CRC-16/X.25. On top of framing it provides the LLC header that
// DLMS/COSEM peers expect on every APDU (E6 E6 00 from the client, E6 E7 00
// from the server), link set-up with SNRM/UA and the negotiation of maximum
// information field lengths and window sizes, segmentation and reassembly of
// APDUs larger than the information field and an acknowledged transfer (send
// window, retransmission, duplicate suppression).
//
// The medium is slow and shared (S-FSK about 2.4 kbit/s raw, G3-PLC about
// 4.5 kbit/s in robust mode) and repeaters multiply airtime, so the package also
// carries a seeded, deterministic simulation of the medium (bit rate, MAC
// efficiency, loss, collisions, repeater hops, propagation delay) that reports
// airtime per node, and the multicast firmware distribution with per-meter
// repair bitmaps. Real transports (a serial PLC modem through go.bug.st/serial,
// and datagram sockets for running roles as processes on one host) move frames
// between processes.
//
// Nothing here is trusted: every decoder is strict (exact length, both check
// sequences, no trailing bytes) and returns errors that match the Err values of
// this package with errors.Is. Confidentiality, integrity and replay protection
// of the payload are the job of the secured APDU above this layer.
package plc
