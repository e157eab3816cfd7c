package spec

import "embed"

// FS holds the modules, their models and the trace-validation models
// (trace/), so that a binary checks the traces of its own run against the
// spec it was built from (verimeter demo -spec-trace) without a checkout.
//
//go:embed *.tla *.cfg trace/*.cfg
var FS embed.FS
