// Command verimeter is the one CLI of the project: it model-checks the TLA+
// specification (check, conformance), generates the role state machines (gen),
// validates the roles' traces against the specification (trace-check),
// manages the test PKI (pki), runs the roles as processes (meter, gateway,
// headend), verifies exported readings (verify) and runs the end-to-end
// demonstration (demo).
//
// `headend serve -metrics ADDR` and `gateway run -metrics ADDR` serve the
// roles' counters in the Prometheus format (metrics.go, not in device
// builds) on a plain-HTTP listener for a loopback or management address:
// read-only counts, no meter data, so a scraper needs no SM-PKI
// certificate.
//
// Each subcommand lives in its own file and registers itself with register in
// an init function, so subcommands can be added without touching main.go.
package main
