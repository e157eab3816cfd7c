package tracecheck

import "testing"

// collectionRun is a run of spec/Collection by hand: the meter takes two
// readings, the gateway collects and uploads both, the head-end ingests
// reading 1 (after the WAN's hidden DeliverAll), and the gateway drops
// reading ack from its queue on the head-end's answer.
func collectionRun(ack string) map[string][]string {
	item := func(r string) string { return `{"r":` + r + `,"signed":true}` }
	return map[string][]string{
		"meter": {
			line("meter", "meter", 1, "Take", `{"kind":"measure"}`, `{"taken":1}`),
			line("meter", "meter", 2, "Take", `{"kind":"measure"}`, `{"taken":2}`),
		},
		"gateway": {
			line("gateway", "gateway", 3, "Collect", `{"kind":"collect","r":1}`, `{}`),
			line("gateway", "gateway", 4, "Collect", `{"kind":"collect","r":2}`, `{}`),
			line("gateway", "gateway", 5, "Upload", `{"kind":"upload","i":`+item("1")+`}`, `{}`),
			line("gateway", "gateway", 6, "Upload", `{"kind":"upload","i":`+item("2")+`}`, `{}`),
			line("gateway", "gateway", 8, "Uploaded", `{"kind":"upload_ack","i":`+item(ack)+`}`, `{}`),
		},
		"headend": {
			line("headend", "headend", 7, "Ingest", `{"kind":"ingest","i":`+item("1")+`}`, `{}`),
		},
	}
}

// TestArgumentsLeavingNoTraceInTheStateAreChecked: the gateway's and the
// head-end's Collection state is empty (their queue and store are @store
// sets kept out of the log), so only the logged arguments tell which
// reading a step took. The check takes each step with its logged
// arguments: the head-end's Ingest of reading 1 acknowledges reading 1,
// and the gateway's drop of reading 2 on that answer is unexplained
// (reading 2 was delivered too, so it is among the values Next draws
// Ingest's item from; taking Ingest with any of them would explain it).
func TestArgumentsLeavingNoTraceInTheStateAreChecked(t *testing.T) {
	m, err := Load("../../spec/Collection.tla", "../../spec/trace/Collection.cfg")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := m.Check(merge(t, collectionRun("1")), Options{MaxHidden: 1}); err != nil {
		t.Fatal(err)
	}
	_, err = m.Check(merge(t, collectionRun("2")), Options{MaxHidden: 1})
	if u := mustUnexplained(t, err); u.Step.Action != "Uploaded" {
		t.Fatalf("unexplained %s, want the Uploaded of reading 2: %v", u.Step.Action, u)
	}
}
