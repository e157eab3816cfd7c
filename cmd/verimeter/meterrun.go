package main

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/rand"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/verimeter/verimeter/internal/sim"
	"github.com/verimeter/verimeter/meter"
	"github.com/verimeter/verimeter/plc"
	"github.com/verimeter/verimeter/protocol"
	"github.com/verimeter/verimeter/statemachine"
)

func init() {
	register(command{name: "meter", summary: "meter run -config FILE: a meter as a process on a PLC socket", run: runMeter})
}

func runMeter(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 || args[0] != "run" {
		fmt.Fprintln(stderr, "usage: verimeter meter run -config meter.json")
		return 2
	}
	fs := flag.NewFlagSet("meter run", flag.ContinueOnError)
	fs.SetOutput(stderr)
	cfgPath := fs.String("config", "", "meter configuration (JSON, from verimeter provision)")
	tamper := fs.String("tamper", "", "simulated tamper sensor: detect one event of this kind at start (cover, magnetic)")
	specTrace := fs.String("spec-trace", "", "log the steps of the meter's machines in this directory (continuing the logs of an earlier run), for trace validation")
	setUsage(fs, stderr, "usage: verimeter meter run -config meter.json [-tamper KIND] [-spec-trace DIR]")
	if err := fs.Parse(args[1:]); err != nil {
		return 2
	}
	if *cfgPath == "" || fs.NArg() != 0 {
		fmt.Fprintln(stderr, "verimeter meter run: -config FILE is required, and nothing else")
		fs.Usage()
		return 2
	}
	if err := meterRun(*cfgPath, *tamper, *specTrace, stdout); err != nil {
		fmt.Fprintf(stderr, "verimeter meter: %v\n", err)
		return 1
	}
	return 0
}

// factorySlot is the firmware a simulated meter of model leaves the
// factory with.
func factorySlot(model string) meter.Slot {
	return meter.Slot{Version: 4, SecurityVersion: 2, LR: []byte(model + " legally relevant code v4"), Other: []byte(model + " communication stack v4")}
}

// selfTest is the simulated meter's self-test of freshly activated legally
// relevant code: the code must be built for the meter's model (a signed
// build for another hardware variant fails here and is rolled back). It
// takes d, as a real self-test takes time.
func selfTest(model string, d time.Duration) func(lr []byte) error {
	return func(lr []byte) error {
		time.Sleep(d)
		if !bytes.HasPrefix(lr, []byte(model+" ")) {
			return fmt.Errorf("legally relevant code not built for %s", model)
		}
		return nil
	}
}

// meterRun runs the meter of the configuration at path; a tamper kind
// fires the simulated sensor once at start (the meter's hardware input);
// specTrace, when not "", is the directory of its spec trace logs.
func meterRun(path, tamper, specTrace string, stdout io.Writer) (err error) {
	traces, err := openSpecTrace(specTrace)
	if err != nil {
		return err
	}
	defer func() { err = errors.Join(err, traces.Close()) }()
	var f meterFile
	if err := readJSON(path, &f); err != nil {
		return err
	}
	title, err := protocol.ParseSystemTitle(f.Title)
	if err != nil {
		return err
	}
	sk, err := protocol.ReadKey(f.SigningKey)
	if err != nil {
		return err
	}
	ck, err := protocol.ReadKey(f.ChannelKey)
	if err != nil {
		return err
	}
	tl, err := os.ReadFile(f.TrustList)
	if err != nil {
		return err
	}
	op, err := certKey(f.Operator)
	if err != nil {
		return err
	}
	man, err := certKey(f.Manufacturer)
	if err != nil {
		return err
	}
	auth, err := certKey(f.Authority)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(f.Dir, 0o700); err != nil {
		return err
	}
	m, err := meter.New(meter.Config{Title: title, Model: f.Model, SigningKey: sk, ChannelKey: ck, Operator: op, TrustList: tl,
		SelfTest:      selfTest(f.Model, time.Duration(f.SelfTestMillis)*time.Millisecond),
		Manufacturers: map[string]*ecdsa.PublicKey{"manufacturer": man}, Authorities: map[string]*ecdsa.PublicKey{"authority": auth},
		Factory: factorySlot(f.Model), Dir: f.Dir, Source: sim.NewHousehold(f.Seed), Rand: rand.Reader, LogbookCapacity: f.LogbookCapacity, Trace: traces})
	if err != nil {
		return err
	}
	defer m.Close()
	if r := m.StoreReport(); r.TornBytes > 0 || r.Upgraded {
		fmt.Fprintf(stdout, "meter %x: %s\n", title, r)
	}
	// A simulated meter measures its configured day at start (a restart
	// resumes after what it already measured).
	for i := len(m.Day(f.Day)); i < 96; i++ {
		if _, err := m.Measure(f.Day, i); err != nil {
			return err
		}
	}
	if tamper != "" {
		n, err := m.Tamper(tamper, time.Now())
		if err != nil {
			return err
		}
		fmt.Fprintf(stdout, "meter %x: tamper event %d (%s) signed and journaled\n", title, n, tamper)
	}
	os.Remove(f.Socket)
	tr, err := plc.ListenSocket(f.Socket)
	if err != nil {
		return err
	}
	defer tr.Close()
	fmt.Fprintf(stdout, "meter %x: listening on %s\n%s", title, f.Socket, renderDisplay(m.Status()))
	return plc.ServeSecondary(m, tr, f.Gateway, f.Addr, stopOnSignal())
}

// openSpecTrace opens the directory of -spec-trace for a process that may
// be killed and started again (its logs are continued); "" is no trace.
func openSpecTrace(dir string) (*statemachine.TraceDir, error) {
	if dir == "" {
		return nil, nil
	}
	return statemachine.OpenTraceDir(dir)
}
