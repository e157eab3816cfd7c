//go:build !device

package main

import (
	"context"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/verimeter/verimeter/gateway"
	"github.com/verimeter/verimeter/headend"
	"github.com/verimeter/verimeter/wan"
)

// The Prometheus face of `headend serve -metrics ADDR` and `gateway run
// -metrics ADDR`: the roles count with plain atomic counters (their Stats
// methods) and link no metrics library; the collectors here read those
// counters at each scrape. This file is not in device builds (a gateway's
// firmware stays without the library; internal/archtest checks it).
//
// The metrics are served over plain HTTP on a listener of their own, not
// on the head-end's mutually authenticated TLS listener, so that a
// Prometheus server scrapes them without a client certificate of the
// SM-PKI. That is acceptable because the listener belongs on the loopback
// interface (a local Prometheus or agent that forwards) or on the
// operator's management network: /metrics is read-only and carries counts
// only (no meter data, no system title, no key material), and nothing on
// it changes the head-end's or the gateway's state. A non-loopback address
// is accepted, with a warning, for that management network.

// metricsLog is where the metrics listener reports its own errors.
var metricsLog = log.New(io.Discard, "", 0)

// newRegistry returns a registry with the Go runtime's and the process's
// collectors and cs.
func newRegistry(cs ...prometheus.Collector) *prometheus.Registry {
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	reg.MustRegister(cs...)
	return reg
}

// serveMetrics serves reg at http://addr/metrics until stop is called; it
// returns the address it listens on (addr may have port 0). A collector
// that fails (the store unreachable for the log size) leaves its metric
// out and the rest is served.
func serveMetrics(addr string, reg *prometheus.Registry, warn io.Writer) (net.Addr, func() error, error) {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return nil, nil, fmt.Errorf("-metrics %q: %w", addr, err)
	}
	if ip := net.ParseIP(host); host != "localhost" && (ip == nil || !ip.IsLoopback()) {
		fmt.Fprintf(warn, "warning: metrics on %s, not a loopback address: plain HTTP without client certificates, for a management network only\n", addr)
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, nil, fmt.Errorf("metrics listener: %w", err)
	}
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{ErrorHandling: promhttp.ContinueOnError, ErrorLog: metricsLog, Timeout: 10 * time.Second}))
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second, ReadTimeout: 10 * time.Second, WriteTimeout: 20 * time.Second,
		IdleTimeout: 2 * time.Minute, MaxHeaderBytes: 16 << 10, ErrorLog: metricsLog}
	go srv.Serve(ln)
	stop := func() error {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		return srv.Shutdown(ctx)
	}
	return ln.Addr(), stop, nil
}

// headendCollector reads a head-end's counters (headend.Stats) and its
// transparency log's size at each scrape.
type headendCollector struct {
	he                                                  *headend.HeadEnd
	batches, items, duplicates, intervals               *prometheus.Desc
	rejected, refusedBatches, latency                   *prometheus.Desc
	tamper, tamperRefused, fetches, storeErrors, leaves *prometheus.Desc
}

func newHeadendCollector(he *headend.HeadEnd) *headendCollector {
	d := func(name, help string, labels ...string) *prometheus.Desc {
		return prometheus.NewDesc("verimeter_headend_"+name, help, labels, nil)
	}
	return &headendCollector{he: he,
		batches:        d("ingest_batches_total", "Ingest batches acknowledged after their durable commit."),
		items:          d("ingest_items_total", "New signed items (readings, load-profile blocks, events) stored."),
		duplicates:     d("ingest_duplicates_total", "Items resent by a gateway that were stored before."),
		intervals:      d("ingest_interval_values_total", "Interval values of the new load-profile blocks stored."),
		rejected:       d("ingest_rejected_items_total", "Items of acknowledged batches refused, by rejection class.", "class"),
		refusedBatches: d("ingest_refused_batches_total", "Batches refused whole (not decodable), by rejection class.", "class"),
		latency:        d("ingest_latency_seconds", "Time from an ingest request to its reply, the durable commit included."),
		tamper:         d("tamper_events_total", "New tamper events stored, each raising an alarm."),
		tamperRefused:  d("tamper_refused_total", "Tamper events refused (not signed by their meter, malformed)."),
		fetches:        d("fetches_total", "Participants' fetches of signed intervals, by outcome (served, refused).", "outcome"),
		storeErrors:    d("store_errors_total", "Ingests, tamper ingests and fetches that failed in the database."),
		leaves:         d("translog_leaves", "Leaves of the transparency log (items logged), read from the database."),
	}
}

// Describe sends the descriptions of the head-end's metrics.
func (c *headendCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{c.batches, c.items, c.duplicates, c.intervals, c.rejected, c.refusedBatches, c.latency,
		c.tamper, c.tamperRefused, c.fetches, c.storeErrors, c.leaves} {
		ch <- d
	}
}

// Collect reads the head-end's counters.
func (c *headendCollector) Collect(ch chan<- prometheus.Metric) {
	s := c.he.Stats()
	count := func(d *prometheus.Desc, v uint64, labels ...string) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.CounterValue, float64(v), labels...)
	}
	count(c.batches, s.Batches)
	count(c.items, s.Items)
	count(c.duplicates, s.Duplicates)
	count(c.intervals, s.Intervals)
	for cl := range wan.RejectClass(wan.NumRejectClasses) {
		count(c.rejected, s.Rejected[cl], cl.String())
		count(c.refusedBatches, s.BatchesRefused[cl], cl.String())
	}
	h := s.IngestLatency
	buckets := make(map[float64]uint64, len(h.Bounds))
	for i, b := range h.Bounds {
		buckets[b] = h.Cumulative[i]
	}
	ch <- prometheus.MustNewConstHistogram(c.latency, h.Count, h.Sum, buckets)
	count(c.tamper, s.TamperEvents)
	count(c.tamperRefused, s.TamperRefused)
	count(c.fetches, s.Fetches, "served")
	count(c.fetches, s.FetchesRefused, "refused")
	count(c.storeErrors, s.StoreErrors)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	n, err := c.he.LogSize(ctx)
	if err != nil {
		ch <- prometheus.NewInvalidMetric(c.leaves, fmt.Errorf("transparency log size: %w", err))
		return
	}
	ch <- prometheus.MustNewConstMetric(c.leaves, prometheus.GaugeValue, float64(n))
}

// gatewayCollector reads a gateway's counters (gateway.Stats, the
// refusals of its receiver) and its PLC link's at each scrape.
type gatewayCollector struct {
	g                                          *gateway.Gateway
	link                                       *gateway.SocketPLC // nil: no PLC metrics
	depth, uploaded, acked, failures, rejected *prometheus.Desc
	refused, frames, bytes, airtime            *prometheus.Desc
}

func newGatewayCollector(g *gateway.Gateway, link *gateway.SocketPLC) *gatewayCollector {
	d := func(name, help string, labels ...string) *prometheus.Desc {
		return prometheus.NewDesc("verimeter_gateway_"+name, help, labels, nil)
	}
	return &gatewayCollector{g: g, link: link,
		depth:    d("queue_depth", "Items in the store-and-forward queue not yet acknowledged by the head-end."),
		uploaded: d("uploaded_items_total", "Items sent to the head-end, every attempt counted."),
		acked:    d("acknowledged_items_total", "Items the head-end acknowledged after its durable commit (they left the queue)."),
		failures: d("upload_failures_total", "Batch uploads that failed (WAN down, head-end busy or refusing); the items stay queued."),
		rejected: d("headend_rejected_items_total", "Acknowledged items the head-end refused (they do not verify)."),
		refused:  d("refused_apdus_total", "APDUs from meters the gateway refused, by rejection class.", "class"),
		frames:   d("plc_frames_total", "HDLC frames on the PLC link, by direction (sent, received).", "direction"),
		bytes:    d("plc_bytes_total", "Bytes of the HDLC frames on the PLC link, by direction (sent, received).", "direction"),
		airtime:  d("plc_airtime_seconds_total", "Channel time of the PLC link's frames both ways on its profile (S-FSK by default)."),
	}
}

// Describe sends the descriptions of the gateway's metrics.
func (c *gatewayCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{c.depth, c.uploaded, c.acked, c.failures, c.rejected, c.refused, c.frames, c.bytes, c.airtime} {
		ch <- d
	}
}

// Collect reads the gateway's counters.
func (c *gatewayCollector) Collect(ch chan<- prometheus.Metric) {
	s := c.g.Stats()
	count := func(d *prometheus.Desc, v uint64, labels ...string) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.CounterValue, float64(v), labels...)
	}
	ch <- prometheus.MustNewConstMetric(c.depth, prometheus.GaugeValue, float64(s.QueueDepth))
	count(c.uploaded, s.Uploaded)
	count(c.acked, s.Acknowledged)
	count(c.failures, s.UploadFailures)
	count(c.rejected, s.HeadEndRejected)
	refused := c.g.Refused.ByClass()
	for cl := range wan.RejectClass(wan.NumRejectClasses) {
		count(c.refused, refused[cl], cl.String())
	}
	if c.link == nil {
		return
	}
	p := c.link.Stats()
	count(c.frames, p.FramesSent, "sent")
	count(c.frames, p.FramesReceived, "received")
	count(c.bytes, p.BytesSent, "sent")
	count(c.bytes, p.BytesReceived, "received")
	ch <- prometheus.MustNewConstMetric(c.airtime, prometheus.CounterValue, p.Airtime.Seconds())
}

// serveHeadendMetrics serves the metrics of he at addr until the returned
// stop is called.
func serveHeadendMetrics(addr string, he *headend.HeadEnd, stdout, stderr io.Writer) (func() error, error) {
	a, stop, err := serveMetrics(addr, newRegistry(newHeadendCollector(he)), stderr)
	if err != nil {
		return nil, err
	}
	fmt.Fprintf(stdout, "head-end: metrics on http://%s/metrics\n", a)
	return stop, nil
}

func init() {
	startGatewayMetrics = func(addr string, g *gateway.Gateway, link *gateway.SocketPLC, stdout io.Writer) (func() error, error) {
		a, stop, err := serveMetrics(addr, newRegistry(newGatewayCollector(g, link)), stdout)
		if err != nil {
			return nil, err
		}
		fmt.Fprintf(stdout, "gateway %s: metrics on http://%s/metrics\n", g.Name(), a)
		return stop, nil
	}
}
