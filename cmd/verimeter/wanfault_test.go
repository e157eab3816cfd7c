//go:build !device

package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/verimeter/verimeter/gateway"
	"github.com/verimeter/verimeter/headend"
	"github.com/verimeter/verimeter/internal/faultproxy"
	"github.com/verimeter/verimeter/internal/sim/procs"
	"github.com/verimeter/verimeter/wan"
)

// TestWANFaultCampaign puts a fault-injecting proxy (internal/faultproxy)
// between two gateway processes and the head-end process, all on
// 127.0.0.1 over TLS 1.3, and runs collection rounds (commission, the day's
// block, on-demand readings, forward in small batches) until the proxy has
// injected VERIMETER_WAN_FAULTS faults (50 by default; make crash runs
// 1,000): connections dropped or reset in the middle of a request, delayed,
// left half open, answers lost after the head-end received the batch, whole
// streams replayed on a fresh connection. Each gateway must ride the faults
// out (retry with backoff, each batch acknowledged only after the commit
// reply) and end every round with its queue empty. The proxy's plan of
// faults follows the logged seed (VERIMETER_WAN_SEED sets it); when each
// fault fires depends on timing as well. At the end the head-end's
// database must hold every item any gateway ever queued exactly once:
// nothing lost, nothing stored twice, every meter's day once.
func TestWANFaultCampaign(t *testing.T) {
	target := 50
	if v := os.Getenv("VERIMETER_WAN_FAULTS"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			t.Fatalf("VERIMETER_WAN_FAULTS=%q", v)
		}
		target = n
	}
	const meters, gateways = 4, 4
	ps := procs.New(t, "vmw", meters, gateways)
	work := ps.Work
	addrFile := filepath.Join(work, "headend.addr")
	ps.StartHeadend()
	for i := range meters {
		ps.StartMeter(i)
	}
	seed := uint64(time.Now().UnixNano())
	if v := os.Getenv("VERIMETER_WAN_SEED"); v != "" { // replay a campaign's plan of faults
		var err error
		if seed, err = strconv.ParseUint(v, 10, 64); err != nil {
			t.Fatalf("VERIMETER_WAN_SEED=%q", v)
		}
	}
	t.Logf("seed %d (VERIMETER_WAN_SEED replays its plan of faults)", seed)
	proxy, err := faultproxy.Listen(faultproxy.Config{
		Target: func() string {
			b, _ := os.ReadFile(addrFile)
			return strings.TrimSpace(string(b))
		},
		Seed:      seed,
		Rate:      0.9,
		MaxOffset: 3 << 10, // the TLS handshake and the first few batches of a connection
		MaxDelay:  300 * time.Millisecond,
		Hold:      3 * time.Second,
	})
	if err != nil {
		t.Fatal(err)
	}
	defer proxy.Close()
	// The gateways reach the head-end only through the proxy.
	proxyAddr := filepath.Join(work, "proxy.addr")
	if err := os.WriteFile(proxyAddr, []byte(proxy.Addr()), 0o644); err != nil {
		t.Fatal(err)
	}
	for g := range gateways {
		p := filepath.Join(work, fmt.Sprintf("gw-%02d.json", g))
		var f gatewayFile
		if err := readJSON(p, &f); err != nil {
			t.Fatal(err)
		}
		f.HeadEndAddr = proxyAddr
		if err := writeJSON(p, f); err != nil {
			t.Fatal(err)
		}
	}
	resent := 0 // items the head-end answered as duplicates: resends after a lost answer
	runGateways := func(extra ...string) {
		var wg sync.WaitGroup
		errs := make([]error, gateways)
		outs := make([][]byte, gateways)
		for g := range gateways {
			wg.Add(1)
			go func() {
				defer wg.Done()
				args := append([]string{"gateway", "run", "-config", filepath.Join(work, fmt.Sprintf("gw-%02d.json", g)),
					"-batch", "1", "-retry-for", "2m", "-wan-timeout", "1s"}, extra...)
				outs[g], errs[g] = ps.Command(args...).CombinedOutput()
			}()
		}
		wg.Wait()
		for g := range gateways {
			if errs[g] != nil {
				t.Fatalf("gateway %d: %v\n%s", g, errs[g], outs[g])
			}
			var n int
			if i := strings.Index(string(outs[g]), " stored, "); i >= 0 {
				fmt.Sscanf(string(outs[g][i+len(" stored, "):]), "%d duplicates", &n)
			}
			resent += n
		}
	}
	rounds := 0
	deadline := time.Now().Add(time.Duration(target) * 2 * time.Second) // about 4 faults a second on 2 cores
	// Until the target is reached and every kind of fault fired at least
	// once (a kind that never fired would be a kind the campaign did not test).
	enough := func() bool {
		st := proxy.Stats()
		for _, k := range faultproxy.Faults() {
			if st.Injected[k] == 0 {
				return false
			}
		}
		return st.Total >= target
	}
	for !enough() {
		if time.Now().After(deadline) {
			t.Fatalf("only %d of %d faults injected in %d rounds before the deadline", proxy.Stats().Total, target, rounds)
		}
		runGateways("-read", "-reads", "16")
		rounds++
	}
	injected := proxy.Stats()
	// A clean round: nothing may have stayed queued.
	proxy.SetFaults(false)
	runGateways()
	ps.StopAll()

	queued := map[string]bool{}
	for g := range gateways {
		q, err := gateway.OpenQueue(filepath.Join(work, "data", fmt.Sprintf("gw-%02d", g), "queue"))
		if err != nil {
			t.Fatal(err)
		}
		if q.Len() != 0 {
			t.Errorf("gateway %d still holds %d unacknowledged items after the clean round", g, q.Len())
		}
		for _, it := range q.All() {
			queued[string(it.Raw)] = true
		}
		q.Close()
	}
	st, err := headend.OpenStore(filepath.Join(work, "data", "headend.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	rows := map[string]int{}
	nrows := 0
	if err := st.Each(func(_ wan.Kind, raw []byte) { rows[string(raw)]++; nrows++ }); err != nil {
		t.Fatal(err)
	}
	_, intervals, err := st.Counts()
	if err != nil {
		t.Fatal(err)
	}
	lost, once := 0, 0
	for raw := range queued {
		switch rows[raw] {
		case 0:
			lost++
		case 1:
			once++
		}
	}
	dup := 0
	for _, n := range rows {
		dup += n - 1
	}
	stranger := 0 // stored but never queued by a gateway
	for raw := range rows {
		if !queued[raw] {
			stranger++
		}
	}
	t.Logf("wan campaign: %d rounds, %d connections, faults by kind %v", rounds, injected.Connections, injected.Injected)
	for _, k := range faultproxy.Faults() {
		t.Logf("figure: wan %-18s %d", k.String(), injected.Injected[k])
	}
	t.Logf("figure: wan items queued       %d", len(queued))
	t.Logf("figure: wan items stored       %d", nrows)
	t.Logf("figure: wan resends recognised %d", resent)
	t.Logf("wan faults injected %d, lost %d, duplicated %d, stored once %d/%d", injected.Total, lost, dup, once, len(queued))
	if lost != 0 || dup != 0 || once != len(queued) || stranger != 0 || nrows != len(queued) {
		t.Fatalf("%d items lost, %d stored twice, %d stored once of %d queued, %d stored that no gateway queued", lost, dup, once, len(queued), stranger)
	}
	if intervals != meters*96 {
		t.Fatalf("stored %d interval values, want %d: a day was lost or stored twice", intervals, meters*96)
	}
	if injected.Total < target {
		t.Fatalf("%d faults injected, want %d", injected.Total, target)
	}
	for _, k := range faultproxy.Faults() {
		if injected.Injected[k] == 0 {
			t.Errorf("no %v fault fired in %d: the campaign did not exercise it", k, injected.Total)
		}
	}
}
