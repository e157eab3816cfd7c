package main

import (
	"fmt"
	"strings"

	"github.com/verimeter/verimeter/meter"
)

// displayLogEntries is how many of the last logbook entries the meter's
// display shows; `verimeter inspect meter` prints them all.
const displayLogEntries = 3

// renderDisplay is the meter's display as `verimeter meter run` prints it:
// registers, tariff and breaker; the legally relevant software's version,
// ID and security floor (WELMEC 7.2: viewable on the device); the tamper
// events and signed items (readings, blocks) the head-end has not yet
// acknowledged end to end; the last logbook entries.
func renderDisplay(st meter.Status) string {
	var b strings.Builder
	fmt.Fprintf(&b, "meter %x  1.8.0 %d.%03d kWh  tariff T%d  breaker %s\n", st.Title, st.ImportWh/1000, st.ImportWh%1000, st.Tariff, st.Breaker)
	fmt.Fprintf(&b, "software v%d  ID %s  security floor %d\n", st.Version, st.SoftwareID, st.SecurityFloor)
	if st.TamperPending > 0 {
		fmt.Fprintf(&b, "tamper events not yet acknowledged: %d\n", st.TamperPending)
	}
	if st.Unacknowledged > 0 {
		fmt.Fprintf(&b, "signed items kept until the head-end acknowledges them: %d\n", st.Unacknowledged)
	}
	lb := st.Logbook
	for _, e := range lb[max(0, len(lb)-displayLogEntries):] {
		fmt.Fprintf(&b, "log %d %s v%d->v%d %s %s\n", e.Seq, e.Event, e.OldVersion, e.NewVersion, e.Party, e.Reason)
	}
	return b.String()
}
