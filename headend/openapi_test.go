package headend

import (
	"bytes"
	"context"
	"go/ast"
	"go/parser"
	"go/token"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers/legacy"
)

func loadOpenAPI(t *testing.T) *openapi3.T {
	t.Helper()
	doc, err := openapi3.NewLoader().LoadFromData(openAPI)
	if err != nil {
		t.Fatalf("openapi.json does not load: %v", err)
	}
	if err := doc.Validate(context.Background()); err != nil {
		t.Fatalf("openapi.json is not a valid OpenAPI 3 document: %v", err)
	}
	return doc
}

// muxRoutes returns the patterns the package's production files register
// on a ServeMux ("METHOD /path"), read from the source: every
// mux.HandleFunc or mux.Handle call with a literal pattern.
func muxRoutes(t *testing.T) []string {
	t.Helper()
	files, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	fset := token.NewFileSet()
	var out []string
	for _, name := range files {
		if strings.HasSuffix(name, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fset, name, nil, parser.SkipObjectResolution)
		if err != nil {
			t.Fatal(err)
		}
		ast.Inspect(f, func(n ast.Node) bool {
			call, ok := n.(*ast.CallExpr)
			if !ok || len(call.Args) == 0 {
				return true
			}
			sel, ok := call.Fun.(*ast.SelectorExpr)
			if !ok || sel.Sel.Name != "HandleFunc" && sel.Sel.Name != "Handle" {
				return true
			}
			lit, ok := call.Args[0].(*ast.BasicLit)
			if !ok || lit.Kind != token.STRING {
				t.Errorf("%s: a route registered without a literal pattern", fset.Position(call.Pos()))
				return true
			}
			p, _ := strconv.Unquote(lit.Value)
			out = append(out, p)
			return true
		})
	}
	slices.Sort(out)
	return out
}

// TestOpenAPIMatchesTheRoutes: the embedded document is valid OpenAPI 3
// (kin-openapi), every route the head-end's mux registers under /v1/ is in
// it, every operation of it is routed by the mux, and the head-end serves
// it. The routes outside /v1/ are the operator console's web pages under
// /console (HTML for a browser, not an API a program calls, so not in the
// API's document; console_test.go drives them): any other route fails.
func TestOpenAPIMatchesTheRoutes(t *testing.T) {
	doc := loadOpenAPI(t)
	var documented []string
	for path, item := range doc.Paths.Map() {
		for method := range item.Operations() {
			documented = append(documented, method+" "+path)
		}
	}
	slices.Sort(documented)
	var routed, pages []string
	for _, r := range muxRoutes(t) {
		_, path, _ := strings.Cut(r, " ")
		switch {
		case strings.HasPrefix(path, "/v1/"):
			routed = append(routed, r)
		case path == "/console" || strings.HasPrefix(path, "/console/"):
			pages = append(pages, r)
		default:
			t.Errorf("route %q is neither the API's (/v1/) nor the console's (/console)", r)
		}
	}
	if len(routed) < 10 || len(pages) == 0 {
		t.Fatalf("only %d API and %d console routes found in the source: %v %v", len(routed), len(pages), routed, pages)
	}
	for _, r := range routed {
		if !slices.Contains(documented, r) {
			t.Errorf("route %q is not in openapi.json", r)
		}
	}
	for _, d := range documented {
		if !slices.Contains(routed, d) {
			t.Errorf("openapi.json documents %q, which the mux does not route", d)
		}
	}
	// And the mux itself routes each documented operation (path
	// parameters filled in): its own 404 or 405 would say otherwise.
	h := newFixture(t).he.handler()
	for _, d := range append(documented, pages...) {
		method, path, _ := strings.Cut(d, " ")
		path = strings.NewReplacer("{meter}", "564d520000000001", "{id}", "1", "{counter}", "1").Replace(path)
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest(method, path, nil))
		if rec.Code == http.StatusMethodNotAllowed || rec.Code == http.StatusNotFound && rec.Body.String() == "404 page not found\n" {
			t.Errorf("%s: the mux answers %d %q", d, rec.Code, rec.Body.String())
		}
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("GET", "/v1/openapi.json", nil))
	if rec.Code != http.StatusOK || !bytes.Equal(rec.Body.Bytes(), openAPI) {
		t.Fatalf("GET /v1/openapi.json: %d", rec.Code)
	}
}

// validateAgainstOpenAPI makes s check every request it sends and every
// answer it gets against openapi.json (kin-openapi's openapi3filter):
// path, parameters, request body, status, content type and body schema.
func validateAgainstOpenAPI(t *testing.T, s *opServer) {
	doc := loadOpenAPI(t)
	router, err := legacy.NewRouter(doc)
	if err != nil {
		t.Fatal(err)
	}
	checked := 0
	s.check = func(req *http.Request, resp *http.Response, body []byte) {
		t.Helper()
		r := req.Clone(context.Background())
		r.URL.Scheme, r.URL.Host, r.Host = "", "", ""
		if req.GetBody != nil {
			r.Body, _ = req.GetBody()
		}
		route, params, err := router.FindRoute(r)
		if err != nil {
			t.Errorf("%s %s: not in openapi.json: %v", req.Method, req.URL.Path, err)
			return
		}
		in := &openapi3filter.RequestValidationInput{Request: r, PathParams: params, Route: route, Options: &openapi3filter.Options{IncludeResponseStatus: true}}
		if resp.StatusCode < 300 {
			if err := openapi3filter.ValidateRequest(context.Background(), in); err != nil {
				t.Errorf("%s %s: request does not validate: %v", req.Method, req.URL, err)
			}
		}
		out := &openapi3filter.ResponseValidationInput{RequestValidationInput: in, Status: resp.StatusCode, Header: resp.Header, Body: io.NopCloser(bytes.NewReader(body)), Options: in.Options}
		if err := openapi3filter.ValidateResponse(context.Background(), out); err != nil {
			t.Errorf("%s %s: answer %d does not validate: %v\n%.300s", req.Method, req.URL, resp.StatusCode, err, body)
		}
		checked++
	}
	t.Cleanup(func() {
		if checked == 0 && !t.Failed() {
			t.Error("no answer was validated against openapi.json")
		}
		t.Logf("%d answers validated against openapi.json", checked)
	})
}
