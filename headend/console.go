package headend

import (
	"bytes"
	"context"
	"crypto/sha256"
	"embed"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"html/template"
	"io/fs"
	"net/http"
	"strings"
	"time"

	"github.com/verimeter/verimeter/wan"
)

// The operator console: HTML pages under /console/ on the head-end's TLS
// listener, for an operator's browser. It is the operator API's face for
// people and stands behind the same gate (operatorCall: the certificate's
// role, the call's audit entry, the bounded body); its actions go through
// the code the JSON handlers call (approveCommand, AcknowledgeAlarm), so
// the four-eyes rule, the signing and the audit are the same.
//
// The pages are rendered on the server from embedded templates
// (html/template escapes every value); there is no script. The pages that
// watch something change (the overview, and the commands while one is on
// its way to its meter) reload themselves with a meta refresh.
//
// The client certificate is ambient authority: a browser sends it with any
// request to the head-end, a cross-site form post included. So every POST
// must come from the console's own pages (sameOrigin), or is refused with
// 403; and the pages may not be framed by another site (X-Frame-Options,
// frame-ancestors).

//go:embed console/*.html console/style.css
var consoleFiles embed.FS

// consoleStyle is the style sheet, inline in every page; the content
// security policy admits it by its hash (consoleCSP), no other style.
var consoleStyle = func() string {
	b, err := consoleFiles.ReadFile("console/style.css")
	if err != nil {
		panic(err)
	}
	return string(b)
}()

// Bounds of the console's pages, besides maxListed.
const (
	// consoleReadingsDays is the period a meter page charts by default,
	// ending now; ?days= chooses up to maxReadingsSpan.
	consoleReadingsDays = 7
	// consoleMaxItems bounds the rows of a meter page's table of items.
	consoleMaxItems = 100
	// consoleMaxPoints bounds the points of a load profile chart (31 days
	// of 15-minute values fit).
	consoleMaxPoints = 3000
	// consoleMaxCampaigns bounds the campaigns page.
	consoleMaxCampaigns = 100
	// consoleRefresh is the period, in seconds, of the commands page's
	// reload while a command is on its way to its meter (seconds to a
	// minute).
	consoleRefresh = 2
	// consoleOverviewRefresh is the overview's, which may stay open all
	// day: each reload is an entry of the audit log.
	consoleOverviewRefresh = 10
)

// consoleCSP allows the console's own style sheet and nothing else: no
// script, no frame, forms posted to itself only.
var consoleCSP = func() string {
	sum := sha256.Sum256([]byte(consoleStyle))
	return "default-src 'none'; style-src 'sha256-" + base64.StdEncoding.EncodeToString(sum[:]) + "'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
}()

// consolePages are the console's templates by page, each with the layout.
var consolePages = func() map[string]*template.Template {
	funcs := template.FuncMap{"time": consoleTime, "style": func() template.CSS { return template.CSS(consoleStyle) }}
	layout := template.Must(template.New("layout.html").Funcs(funcs).ParseFS(consoleFiles, "console/layout.html"))
	names, err := fs.Glob(consoleFiles, "console/*.html")
	if err != nil {
		panic(err)
	}
	out := map[string]*template.Template{}
	for _, n := range names {
		name := strings.TrimSuffix(strings.TrimPrefix(n, "console/"), ".html")
		if name == "layout" {
			continue
		}
		out[name] = template.Must(template.Must(layout.Clone()).ParseFS(consoleFiles, n))
	}
	return out
}()

// consoleTime shows a time in UTC to the second.
func consoleTime(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format("2006-01-02 15:04:05Z")
}

// registerConsole adds the console's routes.
func (h *HeadEnd) registerConsole(mux *http.ServeMux) {
	mux.HandleFunc("GET /console", h.console(h.consoleOverview))
	mux.HandleFunc("GET /console/meters", h.console(h.consoleMeters))
	mux.HandleFunc("GET /console/meters/{meter}", h.console(h.consoleMeter))
	mux.HandleFunc("GET /console/commands", h.console(h.consoleCommands))
	mux.HandleFunc("POST /console/commands/{id}/approve", h.console(h.consoleApprove))
	mux.HandleFunc("GET /console/alarms", h.console(h.consoleAlarms))
	mux.HandleFunc("POST /console/alarms/{id}/ack", h.console(h.consoleAck))
	mux.HandleFunc("GET /console/campaigns", h.console(h.consoleCampaigns))
	mux.HandleFunc("GET /console/audit", h.console(h.consoleAudit))
}

// console admits operators to fn through the operator API's gate
// (operatorCall), refuses a POST that is not same-origin, and answers a
// refusal or fn's error as an HTML page with the operator API's status.
func (h *HeadEnd) console(fn func(w http.ResponseWriter, r *http.Request, a approver) error) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		consoleHeaders(w)
		a, err := h.operatorCall(w, r)
		if err == nil && r.Method != http.MethodGet && r.Method != http.MethodHead {
			if why := sameOrigin(r); why != nil {
				err = h.refuse(a.Name, "console-cross-origin", r.Method+" "+r.URL.Path, why)
			}
		}
		if err == nil {
			err = fn(w, r, a)
		}
		if err != nil {
			consoleError(w, a, err)
		}
	}
}

// errCrossOrigin refuses a state-changing request that a page of another
// origin may have made the browser send (cross-site request forgery).
// The operator API's statuses answer it with 403 (opStatus).
var errCrossOrigin = errors.New("headend: the request does not come from the console's own pages")

// sameOrigin says why r may not come from a page of the console itself: a
// browser marks a request of its own origin with Sec-Fetch-Site:
// same-origin, or (older browsers) an Origin equal to the host it asked
// for. A request with neither is refused too (http.CrossOriginProtection
// would let it through as a non-browser's): the console is for browsers,
// and the JSON API serves programs.
func sameOrigin(r *http.Request) error {
	if site := r.Header.Get("Sec-Fetch-Site"); site != "" {
		if site == "same-origin" {
			return nil
		}
		return fmt.Errorf("%w (Sec-Fetch-Site: %s)", errCrossOrigin, site)
	}
	origin := r.Header.Get("Origin")
	if origin != "" && origin == "https://"+r.Host {
		return nil
	}
	return fmt.Errorf("%w (Origin: %q, host %q)", errCrossOrigin, origin, r.Host)
}

// consoleHeaders are on every answer of the console: nothing cached (the
// pages show meter data and the audit log), no framing, no sniffing, the
// content security policy.
func consoleHeaders(w http.ResponseWriter) {
	hd := w.Header()
	hd.Set("Cache-Control", "no-store")
	hd.Set("Content-Security-Policy", consoleCSP)
	hd.Set("X-Frame-Options", "DENY")
	hd.Set("X-Content-Type-Options", "nosniff")
	hd.Set("Referrer-Policy", "same-origin")
}

// consolePage is what the layout shows around a page's content.
type consolePage struct {
	Title    string
	Operator string
	Refresh  int // seconds; 0 for none
	Data     any
}

// errConsolePage is a page the templates failed to render (a bug: 500).
var errConsolePage = errors.New("headend: console page")

// render writes a page with status code, or returns errConsolePage
// having written nothing. (A write that fails has lost the browser:
// nothing is left to answer.)
func render(w http.ResponseWriter, code int, name string, p consolePage) error {
	var b bytes.Buffer
	if err := consolePages[name].ExecuteTemplate(&b, "layout.html", p); err != nil {
		return fmt.Errorf("%w %s: %w", errConsolePage, name, err)
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(code)
	w.Write(b.Bytes())
	return nil
}

// consoleError answers err as an HTML page with the status the operator
// API gives it.
func consoleError(w http.ResponseWriter, a approver, err error) {
	code, class := opStatus(err)
	if errors.Is(err, errConsolePage) {
		code, class = http.StatusInternalServerError, "internal"
	}
	data := struct {
		Code         int
		Status       string
		Class, Error string
	}{code, http.StatusText(code), class, err.Error()}
	if rerr := render(w, code, "error", consolePage{Title: http.StatusText(code), Operator: a.Name, Data: data}); rerr != nil {
		http.Error(w, err.Error(), code)
	}
}

// consoleOverview is the dashboard: what waits for an operator, what is
// on its way. It reloads itself.
func (h *HeadEnd) consoleOverview(w http.ResponseWriter, r *http.Request, a approver) error {
	ctx := r.Context()
	pending, err := h.cfg.Store.operatorCommands(ctx, wan.CommandPending, 0, maxListed)
	if err != nil {
		return err
	}
	inFlight, err := h.cfg.Store.commandsInFlight(ctx)
	if err != nil {
		return err
	}
	open, err := h.cfg.Store.alarmRows(ctx, alarmSelect+` WHERE acked_by IS NULL ORDER BY id LIMIT ?`, maxListed)
	if err != nil {
		return err
	}
	camps, err := h.cfg.Store.campaignSummaries(ctx, consoleMaxCampaigns)
	if err != nil {
		return err
	}
	running := 0
	for _, c := range camps {
		if c.State == "running" {
			running++
		}
	}
	data := struct {
		Pending          []wan.OperatorCommand
		InFlight         int
		Alarms           []alarm
		CampaignsRunning int
		Refresh          int
	}{pending, inFlight, open, running, consoleOverviewRefresh}
	return render(w, http.StatusOK, "overview", consolePage{Title: "Overview", Operator: a.Name, Refresh: consoleOverviewRefresh, Data: data})
}

func (h *HeadEnd) consoleMeters(w http.ResponseWriter, r *http.Request, a approver) error {
	var from []byte
	if after := r.URL.Query().Get("after"); after != "" {
		m, err := parseMeter(after)
		if err != nil {
			return err
		}
		from = m[:]
	}
	meters, err := h.cfg.Store.inventory(r.Context(), from, maxListed, h.cfg.Now())
	if err != nil {
		return err
	}
	next := ""
	if len(meters) == maxListed {
		next = meters[len(meters)-1].Meter
	}
	data := struct {
		Meters []wan.OperatorMeter
		Next   string
	}{meters, next}
	return render(w, http.StatusOK, "meters", consolePage{Title: "Meters", Operator: a.Name, Data: data})
}

// consoleItem is a row of a meter page's table.
type consoleItem struct {
	wan.OperatorItem
	Intervals int
}

func (h *HeadEnd) consoleMeter(w http.ResponseWriter, r *http.Request, a approver) error {
	meter, err := parseMeter(r.PathValue("meter"))
	if err != nil {
		return err
	}
	days, err := queryInt(r, "days", consoleReadingsDays)
	if err != nil {
		return err
	}
	span := time.Duration(min(max(days, 1), int64(maxReadingsSpan/(24*time.Hour)))) * 24 * time.Hour
	to := h.cfg.Now().UTC()
	from := to.Add(-span)
	items, err := h.cfg.Store.readings(r.Context(), meter, from.Unix(), to.Unix(), h.blockHeader)
	if err != nil {
		return err
	}
	var points []chartPoint
	for _, it := range items {
		for _, iv := range it.Intervals {
			t, err := time.Parse(time.RFC3339, iv.Start)
			if err != nil || t.Before(from) || !t.Before(to) {
				continue
			}
			points = append(points, chartPoint{t, float64(iv.Wh)})
		}
	}
	var rows []consoleItem
	for i := len(items) - 1; i >= 0 && len(rows) < consoleMaxItems; i-- {
		rows = append(rows, consoleItem{items[i], len(items[i].Intervals)})
	}
	data := struct {
		Meter    string
		From, To time.Time
		Days     int64
		Chart    loadChart
		Items    []consoleItem
		AllItems int
	}{hex.EncodeToString(meter[:]), from, to, int64(span / (24 * time.Hour)), newLoadChart(points, from, to), rows, len(items)}
	return render(w, http.StatusOK, "meter", consolePage{Title: "Meter " + data.Meter, Operator: a.Name, Data: data})
}

// chartPoint is one interval value of a load profile.
type chartPoint struct {
	at time.Time
	wh float64
}

// loadChart is a load profile drawn as an SVG polyline: Points in the
// view box's coordinates (Width by Height, y down).
type loadChart struct {
	Width, Height int
	ViewBox       string // the box with a margin for the labels
	Points        string
	Values        int
	Dropped       int // the oldest values left out (consoleMaxPoints)
	MaxWh         float64
	From, To      time.Time
	// Ticks are the day lines: an x and its label.
	Ticks []chartTick
}

type chartTick struct {
	X     float64
	Label string
}

// newLoadChart scales points (in time order) into the chart's box: the
// period [from, to) across, 0 to the largest value up.
func newLoadChart(points []chartPoint, from, to time.Time) loadChart {
	c := loadChart{Width: 900, Height: 240, From: from, To: to, Values: len(points)}
	c.ViewBox = fmt.Sprintf("-60 -10 %d %d", c.Width+70, c.Height+30)
	if len(points) > consoleMaxPoints {
		c.Dropped = len(points) - consoleMaxPoints
		points = points[c.Dropped:]
	}
	for _, p := range points {
		c.MaxWh = max(c.MaxWh, p.wh)
	}
	span := to.Sub(from).Seconds()
	x := func(t time.Time) float64 { return float64(c.Width) * t.Sub(from).Seconds() / span }
	var b strings.Builder
	for i, p := range points {
		y := float64(c.Height)
		if c.MaxWh > 0 {
			y -= float64(c.Height) * p.wh / c.MaxWh
		}
		if i > 0 {
			b.WriteByte(' ')
		}
		fmt.Fprintf(&b, "%.1f,%.1f", x(p.at), y)
	}
	c.Points = b.String()
	for d := from.Truncate(24 * time.Hour).Add(24 * time.Hour); d.Before(to); d = d.Add(24 * time.Hour) {
		c.Ticks = append(c.Ticks, chartTick{x(d), d.Format("Jan 2")})
	}
	return c
}

// consoleCommands lists the commands waiting for an approval (with the
// approve button) and the newest commands with their state and result;
// while one is on its way to its meter (signing or ready), the page
// reloads itself.
func (h *HeadEnd) consoleCommands(w http.ResponseWriter, r *http.Request, a approver) error {
	ctx := r.Context()
	pending, err := h.cfg.Store.operatorCommands(ctx, wan.CommandPending, 0, maxListed)
	if err != nil {
		return err
	}
	recent, err := h.cfg.Store.operatorCommandRows(ctx, `SELECT `+operatorCommandCols+` FROM operator_commands ORDER BY id DESC LIMIT ?`, maxListed)
	if err != nil {
		return err
	}
	inFlight, err := h.cfg.Store.commandsInFlight(ctx)
	if err != nil {
		return err
	}
	refresh := 0
	if inFlight > 0 {
		refresh = consoleRefresh
	}
	data := struct {
		Pending, Recent []wan.OperatorCommand
		InFlight        int
		Me              string
	}{pending, recent, inFlight, a.Name}
	return render(w, http.StatusOK, "commands", consolePage{Title: "Commands", Operator: a.Name, Refresh: refresh, Data: data})
}

// consoleApprove is the approve button: the operator API's approval
// (approveCommand, the four-eyes rule and the signature), then back to
// the commands.
func (h *HeadEnd) consoleApprove(w http.ResponseWriter, r *http.Request, a approver) error {
	id, err := parseID(r.PathValue("id"))
	if err != nil {
		return err
	}
	if _, err := h.approveCommand(r.Context(), id, a); err != nil {
		return err
	}
	http.Redirect(w, r, "/console/commands", http.StatusSeeOther)
	return nil
}

func (h *HeadEnd) consoleAlarms(w http.ResponseWriter, r *http.Request, a approver) error {
	ctx := r.Context()
	open, err := h.cfg.Store.alarmRows(ctx, alarmSelect+` WHERE acked_by IS NULL ORDER BY id LIMIT ?`, maxListed)
	if err != nil {
		return err
	}
	acked, err := h.cfg.Store.alarmRows(ctx, alarmSelect+` WHERE acked_by IS NOT NULL ORDER BY id DESC LIMIT ?`, maxListed)
	if err != nil {
		return err
	}
	data := struct {
		Open, Acked []alarm
		Max         int
	}{open, acked, maxListed}
	return render(w, http.StatusOK, "alarms", consolePage{Title: "Alarms", Operator: a.Name, Data: data})
}

// consoleAck is the acknowledge button: AcknowledgeAlarm, as the operator
// API's ack.
func (h *HeadEnd) consoleAck(w http.ResponseWriter, r *http.Request, a approver) error {
	id, err := parseID(r.PathValue("id"))
	if err != nil {
		return err
	}
	if err := h.acknowledgeAlarm(r.Context(), id, a.Name); err != nil {
		return err
	}
	http.Redirect(w, r, "/console/alarms", http.StatusSeeOther)
	return nil
}

func (h *HeadEnd) consoleCampaigns(w http.ResponseWriter, r *http.Request, a approver) error {
	camps, err := h.cfg.Store.campaignSummaries(r.Context(), consoleMaxCampaigns)
	if err != nil {
		return err
	}
	_, waiting, err := h.cfg.Store.campaignIDs()
	if err != nil {
		return err
	}
	if len(waiting) > maxListed {
		waiting = waiting[:maxListed]
	}
	data := struct {
		Campaigns []campaignSummary
		Waiting   []uint32
		Max       int
	}{camps, waiting, consoleMaxCampaigns}
	return render(w, http.StatusOK, "campaigns", consolePage{Title: "Campaigns", Operator: a.Name, Data: data})
}

// consoleAudit shows the audit log newest first, maxListed entries a page
// (?before= pages back).
func (h *HeadEnd) consoleAudit(w http.ResponseWriter, r *http.Request, a approver) error {
	before, err := queryInt(r, "before", 0)
	if err != nil {
		return err
	}
	q, args := `SELECT seq, at, actor, action, detail FROM audit`, []any{}
	if before > 0 {
		q += ` WHERE seq < ?`
		args = append(args, before)
	}
	entries, err := h.cfg.Store.auditRows(r.Context(), q+` ORDER BY seq DESC LIMIT ?`, append(args, maxListed)...)
	if err != nil {
		return err
	}
	var next int64
	if len(entries) == maxListed {
		next = entries[len(entries)-1].Seq
	}
	data := struct {
		Entries []wan.OperatorAuditEntry
		Next    int64
	}{entries, next}
	return render(w, http.StatusOK, "audit", consolePage{Title: "Audit log", Operator: a.Name, Data: data})
}

// commandsInFlight counts the commands approved and not yet answered by
// their meter (signing or ready).
func (s *Store) commandsInFlight(ctx context.Context) (int, error) {
	var n int
	if err := s.db.QueryRowContext(ctx, s.rebind(`SELECT count(*) FROM operator_commands WHERE status IN (?, ?)`), wan.CommandSigning, wan.CommandReady).Scan(&n); err != nil {
		return 0, storeErr("commands", err)
	}
	return n, nil
}

// campaignSummary is a campaign's progress without its image and meters
// (Store.Campaign reads both, too much for a list).
type campaignSummary struct {
	ID                            uint32
	State, Reason                 string
	Stage, Stages                 int // 1-based stage under way, of Stages
	FirstApprover, SecondApprover string
	ImageBytes                    int64
	Meters, Installed, Failed     int
}

// Pending is the campaign's meters without an outcome.
func (c campaignSummary) Pending() int { return c.Meters - c.Installed - c.Failed }

// Percent is the share of the meters with an outcome.
func (c campaignSummary) Percent() int {
	if c.Meters == 0 {
		return 0
	}
	return 100 * (c.Installed + c.Failed) / c.Meters
}

// campaignSummaries returns the newest campaigns' progress, at most limit.
func (s *Store) campaignSummaries(ctx context.Context, limit int) (out []campaignSummary, err error) {
	rows, err := s.db.QueryContext(ctx, s.rebind(`SELECT c.id, c.state, c.stage, c.reason, c.first_approver, c.second_approver, length(c.image),
 (SELECT count(*) FROM campaign_meters m WHERE m.campaign = c.id),
 (SELECT count(*) FROM campaign_meters m WHERE m.campaign = c.id AND m.outcome = ?),
 (SELECT count(*) FROM campaign_meters m WHERE m.campaign = c.id AND m.outcome = ?)
FROM campaigns c ORDER BY c.id DESC LIMIT ?`), outcomeInstalled, outcomeFailed, limit)
	if err != nil {
		return nil, storeErr("campaigns", err)
	}
	defer closeRows(rows, "campaigns", &err)
	for rows.Next() {
		var c campaignSummary
		var id int64
		if err := rows.Scan(&id, &c.State, &c.Stage, &c.Reason, &c.FirstApprover, &c.SecondApprover, &c.ImageBytes, &c.Meters, &c.Installed, &c.Failed); err != nil {
			return nil, storeErr("campaigns", err)
		}
		c.ID, c.Stages = uint32(id), len(campaignStages)
		c.Stage = min(c.Stage+1, c.Stages)
		out = append(out, c)
	}
	return out, nil
}
