//go:build !device

package main

import (
	"context"
	"crypto/ecdsa"
	"crypto/rand"
	"crypto/tls"
	"errors"
	"flag"
	"fmt"
	"io"
	"log"
	"os"
	"time"

	"github.com/verimeter/verimeter/headend"
	"github.com/verimeter/verimeter/protocol"
	"github.com/verimeter/verimeter/statemachine"
)

func init() {
	register(command{name: "headend", summary: "headend serve -config FILE: the head-end over TLS 1.3 with mutual authentication", run: runHeadend})
}

func runHeadend(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 || args[0] != "serve" {
		fmt.Fprintln(stderr, "usage: verimeter headend serve -config headend.json")
		return 2
	}
	fs := flag.NewFlagSet("headend serve", flag.ContinueOnError)
	fs.SetOutput(stderr)
	cfgPath := fs.String("config", "", "head-end configuration (JSON, from verimeter provision)")
	specTrace := fs.String("spec-trace", "", "log the steps of the head-end's machines in this directory (continuing the logs of an earlier run), for trace validation")
	var o headendOptions
	fs.StringVar(&o.metrics, "metrics", "", "serve Prometheus metrics at http://ADDR/metrics (plain HTTP, no client certificate: a loopback or management address such as 127.0.0.1:9464)")
	setUsage(fs, stderr, "usage: verimeter headend serve -config headend.json [-spec-trace DIR] [-metrics ADDR]")
	if err := fs.Parse(args[1:]); err != nil {
		return 2
	}
	if *cfgPath == "" || fs.NArg() != 0 {
		fmt.Fprintln(stderr, "verimeter headend serve: -config FILE is required, and nothing else")
		fs.Usage()
		return 2
	}
	traces, err := openSpecTrace(*specTrace)
	if err == nil {
		err = headendServe(*cfgPath, traces, stdout, stderr, stopOnSignal(), o)
		err = errors.Join(err, traces.Close())
	}
	if err != nil {
		fmt.Fprintf(stderr, "verimeter headend: %v\n", err)
		return 1
	}
	return 0
}

// headendOptions are the flags of headend serve beyond its configuration.
type headendOptions struct {
	metrics string // -metrics: the metrics listener's address; "" none
}

// headendServe runs the head-end of the configuration at path until stop
// is closed.
// traces, when not nil, receives the logs of the head-end's machines; opt
// (at most one) holds the flags beyond the configuration.
func headendServe(path string, traces *statemachine.TraceDir, stdout, stderr io.Writer, stop <-chan struct{}, opt ...headendOptions) error {
	var f headendFile
	if err := readJSON(path, &f); err != nil {
		return err
	}
	roots, err := readPEMCerts(f.Roots)
	if err != nil {
		return err
	}
	subs, err := readPEMCerts(f.SubCAs)
	if err != nil {
		return err
	}
	meters, err := readPEMCerts(f.MeterCerts)
	if err != nil {
		return err
	}
	val, err := protocol.NewValidator(roots, subs, nil)
	if err != nil {
		return err
	}
	dir, err := protocol.NewMeterDirectory(val, meters)
	if err != nil {
		return err
	}
	cmdKey, err := protocol.ReadKey(f.CommandKey)
	if err != nil {
		return err
	}
	cert, err := loadTLS(f.TLSCert, f.TLSKey, subs)
	if err != nil {
		return err
	}
	store, err := openHeadendStore(f)
	if err != nil {
		return err
	}
	defer store.Close()
	for _, c := range f.Contracts {
		m, err := protocol.ParseSystemTitle(c.Meter)
		if err != nil {
			return err
		}
		from, err1 := time.Parse(time.RFC3339, c.From)
		to, err2 := time.Parse(time.RFC3339, c.To)
		if err1 != nil || err2 != nil {
			return fmt.Errorf("contract for %s: from/to must be RFC 3339", c.Meter)
		}
		if _, err := store.SeedContract(c.Participant, protocol.Role(c.Role), m, from, to); err != nil {
			return err
		}
	}
	var logKey *ecdsa.PrivateKey
	every := time.Minute
	if f.LogKey != "" {
		if logKey, err = protocol.ReadKey(f.LogKey); err != nil {
			return err
		}
		if f.TreeHeadEvery != "" {
			if every, err = time.ParseDuration(f.TreeHeadEvery); err != nil || every <= 0 {
				return fmt.Errorf("tree_head_every %q: a positive Go duration", f.TreeHeadEvery)
			}
		}
	}
	if f.DisconnectsPerHour < 0 {
		return fmt.Errorf("disconnects_per_hour %d: a positive number, or 0 for the default", f.DisconnectsPerHour)
	}
	he := headend.New(headend.Config{Store: store, Meters: dir, Validator: val, Key: cmdKey, LogKey: logKey, Now: time.Now, Rand: rand.Reader, Trace: traces,
		DisconnectsPerHour: f.DisconnectsPerHour})
	if logKey != nil {
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		go he.RunTreeHeads(ctx, every, func(err error) { fmt.Fprintf(stderr, "verimeter headend: tree head: %v\n", err) })
	}
	if len(opt) > 0 && opt[0].metrics != "" {
		stopMetrics, err := serveHeadendMetrics(opt[0].metrics, he, stdout, stderr)
		if err != nil {
			return err
		}
		defer stopMetrics()
	}
	stopCRLs, err := watchCRLs(he, f.CRLs, time.Minute, stderr)
	if err != nil {
		return err
	}
	defer stopCRLs()
	ln, err := tls.Listen("tcp", f.Listen, headend.TLSConfig(cert))
	if err != nil {
		return err
	}
	srv := he.Server(log.New(stderr, "headend: ", 0))
	go srv.Serve(ln)
	if f.AddrFile != "" {
		tmp := f.AddrFile + ".tmp"
		if err := os.WriteFile(tmp, []byte(ln.Addr().String()), 0o644); err != nil {
			return err
		}
		if err := os.Rename(tmp, f.AddrFile); err != nil {
			return err
		}
	}
	fmt.Fprintf(stdout, "head-end: serving on https://%s (TLS 1.3, client certificates required)\n", ln.Addr())
	<-stop
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	return srv.Shutdown(ctx)
}

// defaultDisconnectsPerHour is the limit of disconnects provision writes
// into a head-end's configuration: the head-end's own default, written
// out so that an operator sees the setting.
const defaultDisconnectsPerHour = 50

// openHeadendStore opens the head-end's database its configuration names:
// PostgreSQL when a connection string is given, else the SQLite file.
func openHeadendStore(f headendFile) (*headend.Store, error) {
	if f.Postgres != "" {
		return headend.OpenPostgres(f.Postgres)
	}
	return headend.OpenStore(f.DB)
}
