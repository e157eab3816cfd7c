// Package sim is the simulated deployment of verimeter: one world the
// demo, the adversary campaign and the tests share. It builds the PKI
// (root, sub-CAs, participants, operators), the roles (meters with a
// household consumption source, gateways on simulated PLC segments, the
// head-end with its store), the attacker on the power line and the
// virtual clock, and plays the scenario steps of the demo (commissioning,
// days of readings and their collection, firmware, attacks, tamper,
// operator change, market, commands policy, restarts, export), each
// judged in a Report whose rows and figures a test can read.
//
// Nothing here is production code: internal/archtest fails when a
// production package (protocol, plc, wan, statemachine, tla, and the
// roles) links this package. The roles are reached through the API a
// deployment uses: their constructors, Config, and the gateway's medium
// interface (gateway.PLC), which Segment implements beside the real
// drivers.
package sim
