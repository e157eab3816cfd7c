package headend

import (
	_ "embed" // the OpenAPI document
	"net/http"
)

// openAPI is the OpenAPI 3 document of the head-end's operator API
// (openapi.json beside this file). A test checks that it is valid, that
// every route of the head-end's mux is in it and every path of it routed,
// and that answers of the handlers validate against it.
//
//go:embed openapi.json
var openAPI []byte

// serveOpenAPI is GET /v1/openapi.json, for any client of the listener:
// the document describes the API, it holds nothing secret.
func serveOpenAPI(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	w.Write(openAPI)
}
