package headend

import (
	"crypto/tls"
	"crypto/x509"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log"
	"net/http"
	"path"
	"strconv"
	"time"

	"github.com/verimeter/verimeter/protocol"
	"github.com/verimeter/verimeter/wan"
)

// The head-end's network face: one TLS 1.3 listener with mutual
// authentication. Gateways POST batches to /v1/ingest; market participants
// GET /v1/meters/{system title}/intervals?from=RFC3339&to=RFC3339. Who may
// do what follows from the role in the client's certificate, checked with
// the SM-PKI Validator (Go's own chain check knows nothing of our roles).

// Bounds of the head-end's HTTP face. A gateway or participant (or the WAN
// between) can open connections and stop sending in the middle of a
// request, or keep them idle; each such connection holds a goroutine and a
// socket until one of these ends it.
const (
	// readHeaderTimeout bounds the request line and headers.
	readHeaderTimeout = 10 * time.Second
	// readTimeout bounds a whole request, body included: a batch of
	// wan.MaxIngestBody bytes still arrives in it at about 1 Mbit/s.
	readTimeout = 3 * time.Minute
	// idleTimeout closes a kept-alive connection that sends nothing more.
	idleTimeout = 2 * time.Minute
	// maxHeaderBytes caps the request headers.
	maxHeaderBytes = 64 << 10
)

// Server returns the head-end's HTTP server (Handler) with the bounds
// above; the caller serves it on a listener made with TLSConfig.
func (h *HeadEnd) Server(errorLog *log.Logger) *http.Server {
	return &http.Server{Handler: h.handler(), ReadHeaderTimeout: readHeaderTimeout, ReadTimeout: readTimeout,
		IdleTimeout: idleTimeout, MaxHeaderBytes: maxHeaderBytes, ErrorLog: errorLog}
}

// TLSConfig returns the server side: TLS 1.3 only, a client certificate
// required; chains are checked per request against the role the endpoint
// needs.
func TLSConfig(cert tls.Certificate) *tls.Config {
	return &tls.Config{
		MinVersion:   tls.VersionTLS13,
		Certificates: []tls.Certificate{cert},
		ClientAuth:   tls.RequireAnyClientCert,
	}
}

// handler returns the HTTP handler of the head-end. A path that is not in
// canonical form is refused rather than redirected (ServeMux would answer
// 301/307): the clients are machines that use the exact paths, and a
// redirect would only invite them to send the batch a second time.
func (h *HeadEnd) handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("POST /v1/ingest", h.serveIngest)
	mux.HandleFunc("POST /v1/tamper", h.serveTamper)
	mux.HandleFunc("GET /v1/meters/{meter}/intervals", h.serveIntervals)
	mux.HandleFunc("GET /v1/log/tree-head", h.serveTreeHead)
	mux.HandleFunc("GET /v1/log/consistency", h.serveConsistency)
	h.registerCampaigns(mux)
	h.registerOperator(mux)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if p := r.URL.Path; p == "" || p[0] != '/' || path.Clean(p) != p {
			httpError(w, http.StatusBadRequest, fmt.Errorf("path %q is not canonical", p))
			return
		}
		mux.ServeHTTP(w, r)
	})
}

func (h *HeadEnd) client(r *http.Request, role protocol.Role) (*x509.Certificate, error) {
	if r.TLS == nil || len(r.TLS.PeerCertificates) == 0 {
		return nil, fmt.Errorf("%w: no client certificate", ErrParticipant)
	}
	c := r.TLS.PeerCertificates[0]
	if err := h.cfg.Validator.Check(c, role, h.cfg.Now()); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrParticipant, err)
	}
	return c, nil
}

func httpError(w http.ResponseWriter, code int, err error) {
	http.Error(w, err.Error(), code)
}

func (h *HeadEnd) serveIngest(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	c, err := h.client(r, protocol.RoleGateway)
	if err != nil {
		httpError(w, http.StatusForbidden, err)
		return
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, wan.MaxIngestBody+1))
	if err != nil {
		// Cut off or too slow (ReadTimeout): nothing was ingested.
		httpError(w, http.StatusBadRequest, fmt.Errorf("reading the batch: %w", err))
		return
	}
	if len(body) > wan.MaxIngestBody {
		httpError(w, http.StatusRequestEntityTooLarge, fmt.Errorf("batch larger than %d bytes", wan.MaxIngestBody))
		return
	}
	items, err := wan.DecodeBatch(body)
	if err != nil {
		h.st.refusedBatch(err)
		httpError(w, http.StatusBadRequest, err)
		return
	}
	ctx := r.Context()
	if v := r.Header.Get(wan.ClockHeader); v != "" {
		// The gateway's Lamport time, for the trace of the Ingest steps.
		clock, err := strconv.ParseUint(v, 10, 64)
		if err != nil {
			httpError(w, http.StatusBadRequest, fmt.Errorf("%s: %w", wan.ClockHeader, err))
			return
		}
		ctx = wan.WithClock(ctx, clock)
	}
	res, err := h.Ingest(ctx, c.Subject.CommonName, items)
	if err != nil {
		httpError(w, http.StatusServiceUnavailable, err)
		return
	}
	rep := wan.IngestReply{Stored: res.Stored, Duplicates: res.Duplicates, Intervals: res.Intervals, Clock: res.Clock, Acks: res.Acks}
	for _, e := range res.Rejected {
		rep.Rejected = append(rep.Rejected, e.Error())
	}
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(rep)
	h.st.answered(time.Since(start))
}

func (h *HeadEnd) serveIntervals(w http.ResponseWriter, r *http.Request) {
	if r.TLS == nil || len(r.TLS.PeerCertificates) == 0 {
		httpError(w, http.StatusForbidden, fmt.Errorf("%w: no client certificate", ErrParticipant))
		return
	}
	c := r.TLS.PeerCertificates[0]
	meter, err := protocol.ParseSystemTitle(r.PathValue("meter"))
	if err != nil {
		httpError(w, http.StatusBadRequest, fmt.Errorf("meter: %w", err))
		return
	}
	from, err1 := time.Parse(time.RFC3339, r.URL.Query().Get("from"))
	to, err2 := time.Parse(time.RFC3339, r.URL.Query().Get("to"))
	if err1 != nil || err2 != nil || !from.Before(to) {
		httpError(w, http.StatusBadRequest, fmt.Errorf("from and to must be RFC 3339 times, from before to"))
		return
	}
	proofs, err := h.fetch(r.Context(), c, meter, from, to)
	switch {
	case errors.Is(err, ErrNotEntitled), errors.Is(err, ErrParticipant):
		httpError(w, http.StatusForbidden, err)
		return
	case err != nil:
		httpError(w, http.StatusInternalServerError, err)
		return
	}
	rep := wan.ProofReply{Meter: hex.EncodeToString(meter[:])}
	evidence := map[string]string{}
	for _, p := range proofs {
		b, err := p.Marshal()
		if err != nil {
			httpError(w, http.StatusInternalServerError, err)
			return
		}
		rep.Proofs = append(rep.Proofs, base64.StdEncoding.EncodeToString(b))
		eb, ok := evidence[string(p.Sign1)] // one per block, not per interval
		if !ok {
			ev, err := h.evidenceFor(r.Context(), p.Sign1)
			if err == nil {
				b, err := ev.Marshal()
				if err != nil {
					httpError(w, http.StatusInternalServerError, err)
					return
				}
				eb = base64.StdEncoding.EncodeToString(b)
			} else if !errors.Is(err, ErrNotLogged) {
				httpError(w, http.StatusInternalServerError, err)
				return
			}
			evidence[string(p.Sign1)] = eb
		}
		rep.Evidence = append(rep.Evidence, eb)
	}
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(rep)
}

// logClient admits a market participant to the log's tree heads and
// consistency proofs (what they gossip and check).
func (h *HeadEnd) logClient(w http.ResponseWriter, r *http.Request) bool {
	if r.TLS == nil || len(r.TLS.PeerCertificates) == 0 {
		httpError(w, http.StatusForbidden, fmt.Errorf("%w: no client certificate", ErrParticipant))
		return false
	}
	if err := h.checkParticipant(r.TLS.PeerCertificates[0]); err != nil {
		httpError(w, http.StatusForbidden, err)
		return false
	}
	return true
}

func (h *HeadEnd) serveTreeHead(w http.ResponseWriter, r *http.Request) {
	if !h.logClient(w, r) {
		return
	}
	sth, err := h.latestTreeHead(r.Context())
	var b []byte
	if err == nil {
		b, err = sth.Marshal()
	}
	switch {
	case errors.Is(err, ErrNotLogged):
		httpError(w, http.StatusNotFound, err)
		return
	case err != nil:
		httpError(w, http.StatusInternalServerError, err)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(wan.TreeHeadReply{TreeHead: base64.StdEncoding.EncodeToString(b)})
}

func (h *HeadEnd) serveConsistency(w http.ResponseWriter, r *http.Request) {
	if !h.logClient(w, r) {
		return
	}
	from, err := strconv.ParseUint(r.URL.Query().Get("from"), 10, 63)
	if err != nil || from == 0 {
		httpError(w, http.StatusBadRequest, fmt.Errorf("from must be the size of a tree head, > 0"))
		return
	}
	c, err := h.consistency(r.Context(), from)
	var b []byte
	if err == nil {
		b, err = c.Marshal()
	}
	switch {
	case errors.Is(err, ErrNotLogged):
		httpError(w, http.StatusNotFound, err)
		return
	case err != nil:
		httpError(w, http.StatusInternalServerError, err)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(wan.ConsistencyReply{Consistency: base64.StdEncoding.EncodeToString(b)})
}
