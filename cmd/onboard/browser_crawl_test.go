package main

import (
	"cmp"
	"encoding/json"
	"fmt"
	"html"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/emulation"
	cdplog "github.com/chromedp/cdproto/log"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"

	"github.com/tenantops/onboard/internal/postgres/pgtest"
)

// The page crawl (issue M): every page of the router, as each role that may see it, at a
// desktop and a phone width, in light and dark, with every confirmation dialog opened, and
// the wizard in every lifecycle state. On each it wants axe-core with no violation of any
// impact, no sideways scroll, no console error or failed request, nothing saying that live
// updates are broken on a healthy server, and every visible field labelled. axe's colour rules
// run in all four views, its other rules once per width (the scheme changes only colours),
// and on a dialog axe looks at the dialog (the page behind it was just checked).
//
// Like the authorization matrix it starts from the router: a GET route that some role may
// open (200 in matrixOwn or matrixPublic) must be crawled or named in crawlSkip with a reason,
// so a new page is crawled without anyone remembering to.
//
// CRAWL_SHOTS=dir (make shots) saves a full-page screenshot of every page, state and dialog
// in dir with an index.html to look at them all.

// crawlSkip: GET routes some role may open that are not pages a person looks at.
var crawlSkip = map[string]string{
	"GET /healthz":             "health probe, plain text",
	"GET /readyz":              "readiness probe, plain text",
	"GET /static/*":            "assets",
	"HEAD /static/*":           "assets",
	"GET /api/v1/openapi.yaml": "the API's document, YAML",
	"GET /live":                "WebSocket",
	"GET /live/poll":           "the poll fallback's fragments",
	"GET /admin/workspaces/{ws}/onboarding/{id}/checkpoint": "the poll fallback's fragment",
	"GET /admin/workspaces/{ws}/onboarding/{id}/changes":    "the conflict banner's table, crawled inside the 409 page",
}

// crawlTokenPages: pages a link's token opens, which the matrix (sending "{token}" as it is)
// answers 404 for everyone: the crawl opens them with real tokens, as whoever holds a link.
var crawlTokenPages = map[string][]string{
	"GET /admin/invitations/{token}": {"anonymous"},
}

// crawlPerTab bounds the pages one tab crawls.
const crawlPerTab = 6

// crawlView is one combination of width and colour scheme every page is checked at.
type crawlView struct {
	name          string
	width, height int64
	mobile        bool
	scheme        string
	// dialogs: open every confirmation dialog in this view too (two views, one of each
	// width and scheme, are enough for a dialog and halve the crawl's time).
	dialogs bool
	// allRules: run every axe rule here; the other views run only axeColourRules. What
	// hides or shows an element is the width (phone cards, the drawer), never the scheme,
	// so one view of each width sees every element once.
	allRules bool
}

var crawlViews = []crawlView{
	{"desktop-light", 1280, 800, false, "light", true, true},
	{"desktop-dark", 1280, 800, false, "dark", false, false},
	{"phone-light", 390, 844, true, "light", false, false},
	{"phone-dark", 390, 844, true, "dark", true, true},
}

// axeColourRules are the rules of the crawl's set whose outcome depends on colour: the only
// thing the scheme changes (app.css: every colour is a light-dark() pair, nothing else
// differs). They run in every view; the other rules once per width (allRules).
var axeColourRules = []string{"color-contrast", "link-in-text-block"}

// crawlPage is one page the crawl opens.
type crawlPage struct {
	route  string // the router pattern it covers, "METHOD pattern"
	name   string // for the report and the screenshots' names
	path   string
	status int64 // the page's HTTP status (an error page is a page too)
	// only, if set, narrows who opens the page to these of the route's roles.
	only []string
	// prepare, if set, brings the tab to the page instead of opening path (e.g. a refused
	// submit); it runs after path is opened.
	prepare func(p *page)
}

func TestPageCrawl(t *testing.T) {
	t.Parallel()
	base := startApp(t, map[string]string{
		"DATABASE_URL": pgtest.NewURL(t),
		"DEMO_STORY":   "true",
		// One worker: a slow verification holds it, so a bootstrap started after it stays
		// queued and its draft stays "bootstrapping" while the crawl looks.
		"WORKERS":           "1",
		"SIM_SLOW_DURATION": "10m",
		"JOB_TIMEOUT":       "15m",
	})
	ids := crawlSeed(t, base)
	pages := crawlPages(ids)
	crawlCoversRouter(t, pages)

	shots := newCrawlShots(t)
	browser := newBrowser(t)
	roles := map[string][]crawlPage{}
	for _, p := range pages {
		for _, who := range ids.who(p.route) {
			if p.only != nil && !slices.Contains(p.only, who) {
				continue
			}
			roles[who] = append(roles[who], p)
		}
	}
	// One tab per role and up to crawlPerTab pages, all in parallel: the owner's long list is
	// split so that no tab holds the crawl up.
	type job struct {
		name, who string
		list      []crawlPage
	}
	var jobs []job
	for who, list := range roles {
		for i := 0; i < len(list); i += crawlPerTab {
			chunk := list[i:min(i+crawlPerTab, len(list))]
			jobs = append(jobs, job{fmt.Sprintf("%s/%d", strings.TrimSuffix(who, ".test"), i/crawlPerTab+1), who, chunk})
		}
	}
	for _, j := range jobs {
		who, list := j.who, j.list
		t.Run(j.name, func(t *testing.T) {
			t.Parallel()
			email := who
			if who == "anonymous" {
				email = ""
			}
			tab := newSession(t, browser, base, email, sessionOptions{lifetime: 15 * time.Minute})
			c := newCrawler(tab, shots)
			start := time.Now()
			for _, p := range list {
				c.crawl(p)
			}
			t.Logf("crawled %d pages in %v", len(list), time.Since(start).Round(time.Millisecond))
			if len(c.report) > 0 {
				t.Errorf("the crawl found %d problems as %s:\n%s", len(c.report), who, strings.Join(c.report, "\n"))
			}
		})
	}
}

// crawlIDs are the drafts and runs the crawl shows, one per state worth seeing.
type crawlIDs struct {
	drafts map[string]string // lifecycle state (or story name) -> draft id
	runs   map[string]string // failed, running, partial -> run id
	owner  string            // owner@acme.test's user id, for the members forms
	// invitations: pending, revoked -> the invitation's link path
	invitations map[string]string
}

// who lists the emails that may open a route: matrixOwn's 200s for acme's roles (and the
// globex owner on globex's pages), matrixPublic's signed-in 200s for everyone signed in.
func (ids crawlIDs) who(route string) []string {
	if who, ok := crawlTokenPages[route]; ok {
		return who
	}
	if st, ok := matrixPublic[route]; ok {
		var out []string
		if st[0] == 200 {
			out = append(out, "anonymous")
		}
		if st[1] == 200 {
			out = append(out, "viewer@acme.test", "operator@acme.test", "owner@acme.test", "owner@globex.test")
		}
		return out
	}
	st := matrixOwn[route]
	var out []string
	for i, email := range []string{"viewer@acme.test", "operator@acme.test", "owner@acme.test"} {
		if st[i] == 200 {
			out = append(out, email)
		}
	}
	return out
}

// crawlCoversRouter fails when a GET route that some role may open is neither crawled nor
// skipped with a reason.
func crawlCoversRouter(t *testing.T, pages []crawlPage) {
	t.Helper()
	crawled := map[string]bool{}
	for _, p := range pages {
		crawled[p.route] = true
	}
	for _, route := range walkRoutes(t) {
		if !strings.HasPrefix(route, "GET ") || strings.HasPrefix(route, "GET /api/v1/") && route != "GET /api/v1/openapi.yaml" {
			continue
		}
		opens := false
		if st, ok := matrixPublic[route]; ok {
			opens = st[0] == 200 || st[1] == 200
		}
		if st, ok := matrixOwn[route]; ok {
			opens = slices.Contains(st[:], 200)
		}
		if !opens {
			continue // a redirect or a refusal for everyone: no page of its own
		}
		if _, skip := crawlSkip[route]; !skip && !crawled[route] {
			t.Errorf("%s opens a page that the crawl does not visit: add it to crawlPages (or to crawlSkip with why)", route)
		}
	}
}

const (
	crawlDrafts = "GET /admin/workspaces/{ws}/onboarding"
	crawlWizard = "GET /admin/workspaces/{ws}/onboarding/{id}"
	crawlRuns   = "GET /admin/workspaces/{ws}/operations"
	crawlRun    = "GET /admin/workspaces/{ws}/operations/{run_id}"
)

// crawlPages lists every page the crawl opens.
func crawlPages(ids crawlIDs) []crawlPage {
	acme := "/admin/workspaces/acme"
	pages := []crawlPage{
		{route: "GET /admin/login", name: "login", path: "/admin/login"},
		{route: "GET /admin", name: "workspaces", path: "/admin"},
		{route: "GET /admin/notifications", name: "notifications", path: "/admin/notifications"},
		{route: "GET /admin/profile", name: "profile", path: "/admin/profile"},
		{route: "GET /admin/workspaces/{ws}/", name: "dashboard", path: acme},
		{route: crawlDrafts, name: "drafts", path: acme + "/onboarding"},
		{route: crawlDrafts, name: "drafts-checkpoint", path: acme + "/onboarding?checkpoint=verify_access", only: []string{"owner@acme.test"}},
		{route: crawlDrafts, name: "drafts-filtered", path: acme + "/onboarding?lifecycle=action_required", only: []string{"owner@acme.test"}},
		{route: "GET /admin/workspaces/{ws}/onboarding/new", name: "draft-new", path: acme + "/onboarding/new"},
		// The list tables with a search, a sort, a page size and a page (chips, arrows, pager).
		// Cancel selected asks first: a row selected enables it, so its dialog is crawled too.
		{route: crawlDrafts, name: "drafts-selected", path: acme + "/onboarding", only: []string{"owner@acme.test"},
			prepare: func(p *page) {
				p.click(`[data-testid=row-select]`)
				p.js(`!document.querySelector('[data-testid=bulk-cancel]').disabled`)
			}},
		{route: crawlDrafts, name: "drafts-sorted-paged", path: acme + "/onboarding?q=a&sort=name&dir=desc&per_page=25&page=2"},
		{route: crawlRuns, name: "operations", path: acme + "/operations"},
		{route: crawlRuns, name: "operations-filtered", path: acme + "/operations?status=completed&q=acme&sort=type&dir=asc", only: []string{"viewer@acme.test"}},
		{route: crawlRuns, name: "operations-24h", path: acme + "/operations?status=completed&outcome=failed&since=24h", only: []string{"owner@acme.test"}},
		{route: "GET /admin/workspaces/{ws}/audit", name: "audit", path: acme + "/audit"},
		{route: "GET /admin/workspaces/{ws}/audit", name: "audit-search-page2", path: acme + "/audit?q=onboarding&per_page=25&page=2", only: []string{"owner@acme.test"}},
		{route: "GET /admin/workspaces/{ws}/members/", name: "members", path: acme + "/members/"},
		{route: "GET /admin/workspaces/{ws}/members/", name: "members-sorted", path: acme + "/members/?sort=role&dir=desc&q=acme"},
		{route: "GET /admin/workspaces/{ws}/search", name: "search", path: acme + "/search?q=a"},
		{route: "GET /admin/workspaces/{ws}/search", name: "search-empty", path: acme + "/search", only: []string{"viewer@acme.test"}},
	}
	states := []string{"draft", "verifying", "action_required", "bootstrapping", "partial", "ready_for_activation", "completed", "overridden", "cancelled"}
	// Every route as every role that may open it; every state of the wizard as its owner, and
	// the states whose forms differ by role (draft, action required, ready) as every role.
	owner := []string{"owner@acme.test"}
	for _, state := range states {
		p := crawlPage{route: crawlWizard, name: "wizard-" + state, path: wizardPath("acme", ids.drafts[state]), only: owner}
		if state == "draft" || state == "action_required" || state == "ready_for_activation" {
			p.only = nil
		}
		pages = append(pages, p)
	}
	pages = append(pages,
		crawlPage{route: crawlWizard, name: "wizard-draft-step1", path: wizardPath("acme", ids.drafts["draft"]) + "?step=1"},
		crawlPage{route: crawlWizard, name: "wizard-ready-step4", path: wizardPath("acme", ids.drafts["ready_for_activation"]) + "?step=4", only: owner},
		crawlPage{route: crawlWizard, name: "wizard-completed-step3", path: wizardPath("acme", ids.drafts["completed"]) + "?step=3", only: owner},
		crawlPage{route: crawlWizard, name: "wizard-not-found", path: wizardPath("acme", "00000000-0000-4000-8000-000000000000"), status: 404, only: owner},
		// A stale save: the 409 page with what changed since the form was loaded.
		crawlPage{route: crawlWizard, name: "wizard-stale-save", path: wizardPath("acme", ids.drafts["ready_for_activation"]) + "?step=1", status: 409,
			only: []string{"operator@acme.test", "owner@acme.test"},
			prepare: func(p *page) {
				p.exec("stale form", `(() => {
					const f = document.querySelector('[data-testid=identify-form]') || document.querySelector('#display_name').form;
					f.elements.namedItem('version').value = '1';
					document.querySelector('#display_name').value = 'What the operator typed';
				})()`)
				p.submit(`[data-testid=save-identify]`, 409)
			}},
	)
	// An invitation's page: the form, a refused password, a revoked link, a token of nothing.
	invite := "GET /admin/invitations/{token}"
	pages = append(pages,
		crawlPage{route: invite, name: "invitation", path: ids.invitations["pending"]},
		crawlPage{route: invite, name: "invitation-refused", path: ids.invitations["pending"], status: 422, prepare: func(p *page) {
			p.typeInto("#new_password", "too-short")
			p.typeInto("#confirm_password", "not-the-same")
			p.submit(`[data-testid=invitation-accept]`, 422)
		}},
		crawlPage{route: invite, name: "invitation-revoked", path: ids.invitations["revoked"], status: 410},
		crawlPage{route: invite, name: "invitation-unknown", path: "/admin/invitations/AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", status: 404},
	)
	for _, kind := range []string{"failed", "running", "partial"} {
		p := crawlPage{route: crawlRun, name: "run-" + kind, path: acme + "/operations/" + ids.runs[kind]}
		if kind != "failed" {
			p.only = owner
		}
		pages = append(pages, p)
	}
	for i := range pages {
		pages[i].status = max(pages[i].status, 200)
	}
	return pages
}

// crawlSeed brings drafts into the states the demo story lacks (verifying, bootstrapping,
// partial) and finds the story's own.
func crawlSeed(t *testing.T, base string) crawlIDs {
	t.Helper()
	owner := client(t, base, "owner@acme.test")
	api := &crawlAPI{t: t, c: owner, base: base + "/api/v1/workspaces/acme"}
	ids := crawlIDs{drafts: map[string]string{}, runs: map[string]string{}}
	for _, d := range api.list("/onboarding/drafts") {
		state, name := d["lifecycle_state"].(string), d["display_name"].(string)
		switch {
		case name == "Tailspin Toys":
			ids.drafts["overridden"] = d["id"].(string)
		case name == "Adatum":
			ids.drafts["completed"] = d["id"].(string)
		default:
			ids.drafts[state] = d["id"].(string)
		}
	}
	for _, state := range []string{"draft", "action_required", "ready_for_activation", "completed", "overridden", "cancelled"} {
		if ids.drafts[state] == "" {
			t.Fatalf("the demo story has no %s draft: %v", state, ids.drafts)
		}
	}
	for _, r := range api.list("/operation-runs?draft=" + ids.drafts["action_required"]) {
		ids.runs["failed"] = r["id"].(string)
	}

	// Partial: bootstrap ends partially succeeded. Then a verified draft whose bootstrap will
	// wait behind the slow verification that holds the one worker.
	partial := api.start("Partial Tenant", "partial.partial.test")
	api.verify(partial)
	api.waitState(partial, "ready_for_activation")
	runs := api.bootstrap(partial)
	ids.runs["partial"] = runs[0]
	api.waitState(partial, "ready_for_activation")
	queued := api.start("Queued Tenant", "queued.healthy.test")
	api.verify(queued)
	api.waitState(queued, "ready_for_activation")
	slow := api.start("Slow Tenant", "slow.slow.test")
	ids.runs["running"] = api.verify(slow)
	api.waitRun(ids.runs["running"], "running")
	api.bootstrap(queued)
	api.waitState(queued, "bootstrapping")
	ids.drafts["partial"], ids.drafts["verifying"], ids.drafts["bootstrapping"] = partial, slow, queued
	ids.invitations = crawlInvitations(t, base, owner)
	return ids
}

// crawlInvitations invites two people (no mail: the link is on the page) and revokes the
// second; it returns both links' paths.
func crawlInvitations(t *testing.T, base string, owner *http.Client) map[string]string {
	t.Helper()
	out := map[string]string{}
	linkRE := regexp.MustCompile(`value="https?://[^/"]+(/admin/invitations/[A-Za-z0-9_-]+)"`)
	for _, state := range []string{"pending", "revoked"} {
		email := "crawl." + state + "@example.test"
		code, body := invite(t, owner, base, "acme", email, "operator")
		m := linkRE.FindStringSubmatch(body)
		if code != 200 || m == nil {
			t.Fatalf("invite %s: %d without a link", email, code)
		}
		out[state] = m[1]
	}
	_, page, _ := get(t, owner, base+"/admin/workspaces/acme/members", "text/html")
	m := regexp.MustCompile(`data-email="crawl.revoked@example.test"[\s\S]*?action="([^"]+/revoke)"`).FindStringSubmatch(page)
	if m == nil {
		t.Fatal("no revoke form for crawl.revoked@example.test")
	}
	if code, _, _ := postForm(t, owner, base+m[1], nil); code != http.StatusSeeOther {
		t.Fatalf("revoke: %d", code)
	}
	return out
}

// crawlAPI makes the crawl's drafts and runs through the JSON API as one user.
type crawlAPI struct {
	t    *testing.T
	c    *http.Client
	base string
}

func (a *crawlAPI) do(method, path, body, ifMatch string, want int) (map[string]any, string, []byte) {
	a.t.Helper()
	req, _ := http.NewRequest(method, a.base+path, strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	if ifMatch != "" {
		req.Header.Set("If-Match", ifMatch)
	}
	resp, err := a.c.Do(req)
	if err != nil {
		a.t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != want {
		a.t.Fatalf("%s %s = %d, want %d: %s", method, path, resp.StatusCode, want, raw)
	}
	var out map[string]any
	_ = json.Unmarshal(raw, &out)
	return out, resp.Header.Get("ETag"), raw
}

func (a *crawlAPI) list(path string) []map[string]any {
	a.t.Helper()
	_, _, raw := a.do(http.MethodGet, path, "", "", 200)
	var out []map[string]any
	if err := json.Unmarshal(raw, &out); err != nil {
		a.t.Fatalf("GET %s: %v", path, err)
	}
	return out
}

func (a *crawlAPI) etag(id string) string {
	a.t.Helper()
	_, etag, _ := a.do(http.MethodGet, "/onboarding/drafts/"+id, "", "", 200)
	return etag
}

// start creates a draft with a provider connection attached.
func (a *crawlAPI) start(name, domain string) string {
	a.t.Helper()
	d, etag, _ := a.do(http.MethodPost, "/onboarding/drafts", fmt.Sprintf(`{"tenant_id":%q,"display_name":%q,"primary_domain":%q}`, newUUID(), name, domain), "", 201)
	id := d["id"].(string)
	a.do(http.MethodPatch, "/onboarding/drafts/"+id, fmt.Sprintf(`{"provider_connection":{"client_id":%q,"client_secret":"crawl-secret"}}`, newUUID()), etag, 200)
	return id
}

func (a *crawlAPI) verify(id string) string {
	a.t.Helper()
	out, _, _ := a.do(http.MethodPost, "/onboarding/drafts/"+id+"/verification", `{}`, a.etag(id), 202)
	return out["run"].(map[string]any)["id"].(string)
}

func (a *crawlAPI) bootstrap(id string) []string {
	a.t.Helper()
	out, _, _ := a.do(http.MethodPost, "/onboarding/drafts/"+id+"/bootstrap", `{"operations":["inventory_sync","policy_sync"]}`, a.etag(id), 202)
	var ids []string
	for _, r := range out["runs"].([]any) {
		ids = append(ids, r.(map[string]any)["id"].(string))
	}
	return ids
}

// waitState waits until the draft is in state (a worker's outcome lands asynchronously).
func (a *crawlAPI) waitState(id, state string) {
	a.t.Helper()
	a.waitFor("draft "+id+" "+state, func() bool {
		d, _, _ := a.do(http.MethodGet, "/onboarding/drafts/"+id, "", "", 200)
		return d["lifecycle_state"] == state
	})
}

func (a *crawlAPI) waitRun(id, status string) {
	a.t.Helper()
	a.waitFor("run "+id+" "+status, func() bool {
		r, _, _ := a.do(http.MethodGet, "/operation-runs/"+id, "", "", 200)
		return r["status"] == status
	})
}

func (a *crawlAPI) waitFor(what string, ok func() bool) {
	a.t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for !ok() {
		if time.Now().After(deadline) {
			a.t.Fatalf("waited 30 s for %s", what)
		}
		time.Sleep(50 * time.Millisecond) // polling the API for a worker's outcome
	}
}

// crawler checks pages in one tab and collects what it finds.
type crawler struct {
	p      *page
	shots  *crawlShots
	report []string

	mu       sync.Mutex
	problems []string // console errors and failed requests since the last check
	expect   int64    // the status the page being checked was opened with

	cssChecked bool // axe has read this page's stylesheets (axeAll)
}

func newCrawler(p *page, shots *crawlShots) *crawler {
	c := &crawler{p: p, shots: shots}
	if err := chromedp.Listen(p.ctx, func(ev any) {
		c.mu.Lock()
		defer c.mu.Unlock()
		switch e := ev.(type) {
		case *runtime.EventExceptionThrown:
			c.problems = append(c.problems, "uncaught: "+e.ExceptionDetails.Text+" "+exceptionText(e.ExceptionDetails))
		case *runtime.EventConsoleAPICalled:
			if e.Type == runtime.ConsoleAPICalledTypeError {
				var args []string
				for _, a := range e.Args {
					args = append(args, string(a.Value)+a.Description)
				}
				c.problems = append(c.problems, "console.error: "+strings.Join(args, " "))
			}
		case *cdplog.EventEntryAdded:
			if e.Entry.Level == cdplog.EntryLevelError && !c.expectedFailure(e.Entry.Text) {
				c.problems = append(c.problems, "console: "+e.Entry.Text+" "+e.Entry.URL)
			}
		case *network.EventLoadingFailed:
			if !e.Canceled && e.BlockedReason == "" {
				c.problems = append(c.problems, "request failed: "+e.ErrorText)
			}
		case *network.EventResponseReceived:
			if e.Response.Status >= 400 && e.Type != network.ResourceTypeDocument {
				c.problems = append(c.problems, fmt.Sprintf("request %s: %d", e.Response.URL, e.Response.Status))
			}
		}
	}); err != nil {
		p.fail("listen: %v", err)
	}
	if _, err := chromedp.Call(p.ctx, cdplog.Enable, cdp.Empty{}); err != nil {
		p.fail("enable the log: %v", err)
	}
	return c
}

// expectedFailure: the console line Chromium writes for the error page the crawl opened on
// purpose.
func (c *crawler) expectedFailure(text string) bool {
	return c.expect >= 400 && strings.Contains(text, fmt.Sprintf("status of %d", c.expect))
}

func exceptionText(d *runtime.ExceptionDetails) string {
	if d.Exception != nil {
		return d.Exception.Description
	}
	return ""
}

func (c *crawler) takeProblems() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := c.problems
	c.problems = nil
	return out
}

func (c *crawler) crawl(cp crawlPage) {
	p := c.p
	p.t.Helper()
	c.mu.Lock()
	c.expect = cp.status
	c.mu.Unlock()
	c.cssChecked = false
	p.do("default view", chromedp.EmulateViewport(1280, 800))
	c.media("light")
	resp, err := chromedp.RunResponse(p.bounded(), chromedp.Navigate(p.base+cp.path))
	if err != nil {
		p.fail("open %s: %v", cp.path, err)
	}
	status := resp.Status
	if cp.prepare != nil {
		if status != 200 {
			p.fail("open %s: status %d, want 200", cp.path, status)
		}
		cp.prepare(p)
		status = cp.status
	}
	if status != cp.status {
		c.add(cp.name, "", "status %d, want %d", status, cp.status)
		return
	}
	if !c.settled() {
		c.add(cp.name, "", "live updates did not connect: %q", eval[string](p, `document.querySelector('[data-live-status]').textContent`))
	}
	for _, v := range crawlViews {
		p.do("view "+v.name, chromedp.EmulateViewport(v.width, v.height, crawlMobile(v.mobile)))
		c.media(v.scheme)
		c.check(cp.name, v, "", "document")
		if !v.dialogs {
			continue
		}
		for i, form := range eval[[]string](p, crawlConfirmForms) {
			c.dialog(cp.name, v, i, form)
		}
	}
	for _, pr := range c.takeProblems() {
		c.add(cp.name, "", "%s", pr)
	}
}

// crawlConfirmForms lists the visible forms that ask for confirmation (and may be sent: "Cancel
// selected" waits for a selection), by index among all forms with data-confirm.
const crawlConfirmForms = `[...document.querySelectorAll('form[data-confirm]')]
	.map((f, i) => [f, String(i)]).filter(([f]) => {
		const b = f.querySelector('button[type=submit], button:not([type])');
		return b && b.offsetParent !== null && !b.disabled;
	}).map(([, i]) => i)`

// media emulates the colour scheme, with reduced motion so that no colour transition is
// half-way when axe measures contrast (the stylesheet honours prefers-reduced-motion).
func (c *crawler) media(scheme string) {
	c.p.t.Helper()
	if _, err := chromedp.Call(c.p.ctx, emulation.SetEmulatedMedia, emulation.SetEmulatedMediaParams{
		Features: []*emulation.MediaFeature{{Name: "prefers-color-scheme", Value: scheme}, {Name: "prefers-reduced-motion", Value: "reduce"}}}); err != nil {
		c.p.fail("emulate %s: %v", scheme, err)
	}
}

func crawlMobile(mobile bool) chromedp.EmulateViewportOption {
	return func(p1 *emulation.SetDeviceMetricsOverrideParams, p2 *emulation.SetTouchEmulationEnabledParams) {
		p1.Mobile = mobile
		p2.Enabled = mobile
	}
}

// settled waits until the page is loaded and, where it has live fragments, connected; it
// reports whether live updates connected.
func (c *crawler) settled() bool {
	c.p.t.Helper()
	c.p.js(`document.readyState === 'complete'`)
	_, err := chromedp.Run(c.p.ctx, chromedp.Poll[any](`!document.querySelector('[data-live-status]') ||
		['live', 'offline'].includes(document.querySelector('[data-live-status]').dataset.state) && !!document.querySelector('[data-live-status]').textContent`,
		chromedp.WithPollingTimeout(5*time.Second), chromedp.WithPollingInterval(pollEvery)))
	return err == nil && eval[bool](c.p, `!document.querySelector('[data-live-status]') || document.querySelector('[data-live-status]').dataset.state === 'live'`)
}

// dialog opens the i-th confirmation form's dialog, checks it, and cancels it.
func (c *crawler) dialog(name string, view crawlView, n int, idx string) {
	p := c.p
	p.t.Helper()
	p.exec("open dialog", fmt.Sprintf(`(() => {
		const f = document.querySelectorAll('form[data-confirm]')[%s];
		(f.querySelector('button[type=submit]') || f.querySelector('button:not([type])')).click();
	})()`, idx))
	p.js(`document.querySelector('dialog.confirm-dialog')?.open === true`)
	// axe looks at the dialog alone: the page behind it is the one just checked in this
	// view, and the modal dialog leaves it inert.
	c.check(name, view, fmt.Sprintf("dialog%d", n), "document.querySelector('dialog.confirm-dialog')")
	p.do("cancel dialog", chromedp.Click(chromedp.CSS(`dialog.confirm-dialog button[value=cancel]`)))
	p.js(`document.querySelector('dialog.confirm-dialog')?.open === false`)
}

// crawlHealthJS lists what a person would notice on a healthy server: sideways scroll, a
// notice that live updates are broken, a visible field without a label, a word broken
// across lines (a box squeezed narrower than its words: once the phone's Status cells on
// step 4, one letter a line).
const crawlHealthJS = `(() => {
	const out = [];
	const broken = [];
	const walk = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
	for (let n = walk.nextNode(); n && broken.length < 3; n = walk.nextNode()) {
		const el = n.parentElement;
		// Read only what is shown: not hidden (nor in a closed details), not a 1-pixel box for
		// screen readers.
		if (!el || !el.checkVisibility() || el.closest('.visually-hidden, thead')) continue;
		// Words, not identifiers: "DeviceManagementApps" may break on a phone.
		for (const m of n.textContent.matchAll(/(?<![A-Za-z0-9_.@\/])[A-Z]?[a-z]{2,}(?![A-Za-z0-9_@])/g)) {
			const r = document.createRange();
			r.setStart(n, m.index); r.setEnd(n, m.index + m[0].length);
			const lines = new Set([...r.getClientRects()].filter(b => b.width > 0).map(b => Math.round(b.top)));
			if (lines.size > 1) { broken.push('"' + m[0] + '" in ' + el.tagName.toLowerCase() + (el.className ? '.' + String(el.className).split(' ').join('.') : '')); break; }
		}
	}
	if (broken.length) out.push('a word broken across lines (a box narrower than its words): ' + broken.join('; '));
	const doc = document.documentElement;
	if (doc.scrollWidth > doc.clientWidth) {
		const wide = [...document.querySelectorAll('body *')].filter(e => e.getBoundingClientRect().right > doc.clientWidth + 0.5 && e.offsetParent !== null)
			.slice(-3).map(e => e.tagName.toLowerCase() + (e.className ? '.' + String(e.className).split(' ').join('.') : '') + ' "' + (e.textContent || '').trim().slice(0, 40) + '"');
		out.push('scrolls sideways: scrollWidth ' + doc.scrollWidth + ' > ' + doc.clientWidth + ' (' + wide.join('; ') + ')');
	}
	const shown = (e) => !!e && e.offsetParent !== null && getComputedStyle(e).visibility !== 'hidden';
	const text = (document.body.innerText || '');
	for (const bad of [/not available/i, /not updating/i, /reconnecting/i, /offline/i]) {
		if (bad.test(text)) out.push('says ' + bad + ' on a healthy server');
	}
	for (const f of document.querySelectorAll('input:not([type=hidden]), select, textarea')) {
		if (!shown(f)) continue;
		const said = (t) => !!t && t.trim() !== '';
		const named = [...f.labels].some(l => said(l.textContent)) || said(f.getAttribute('aria-label')) || said(f.title) ||
			(f.getAttribute('aria-labelledby') || '').split(' ').some(id => said(document.getElementById(id)?.textContent));
		if (!named) out.push('field without a label: ' + f.outerHTML.slice(0, 120));
	}
	return out;
})()`

// check runs every check on the page as it is now, axe on the element the JavaScript
// expression where names.
func (c *crawler) check(name string, view crawlView, state, where string) {
	p := c.p
	p.t.Helper()
	// The stylesheets are read (axe's preload) once per page: css-orientation-lock, the one
	// rule that reads them, looks at the CSS itself, which neither width nor scheme changes.
	violations := p.axeAll(axeRun{where: where, css: !c.cssChecked && view.allRules, colourOnly: !view.allRules})
	c.cssChecked = c.cssChecked || view.allRules
	for _, v := range violations {
		var where []string
		for i, n := range v.Nodes {
			if i == 3 {
				where = append(where, fmt.Sprintf("… %d more", len(v.Nodes)-3))
				break
			}
			where = append(where, fmt.Sprint(n.Target))
		}
		c.add(name, view.name+" "+state, "axe %s [%s]: %s at %s", v.ID, v.Impact, v.Help, strings.Join(where, ", "))
	}
	for _, s := range eval[[]string](p, crawlHealthJS) {
		c.add(name, view.name+" "+state, "%s", s)
	}
	c.shots.take(p, name, view.name, state)
}

func (c *crawler) add(name, where, format string, args ...any) {
	c.report = append(c.report, fmt.Sprintf("%s (%s): %s", name, strings.TrimSpace(where), fmt.Sprintf(format, args...)))
}

// axeRun says what one axe pass of the crawl looks at.
type axeRun struct {
	where      string // a JavaScript expression for the element (or document) to check
	css        bool   // read the stylesheets: css-orientation-lock, the one rule that needs them
	colourOnly bool   // only axeColourRules
}

// axeAll runs axe-core's WCAG 2.x A/AA rules and best practices (or only the colour rules)
// and returns every violation, whatever its impact.
//
// Without css, axe does not fetch and parse the page's stylesheets (preload), which was about
// a fifth of the crawl's CPU, and css-orientation-lock, the rule that needs them, is not run.
func (p *page) axeAll(r axeRun) []axeViolation {
	p.t.Helper()
	if !eval[bool](p, `typeof window.axe === 'object'`) {
		if _, err := chromedp.Run(p.bounded(), chromedp.Evaluate[any](axeJS+";true")); err != nil {
			p.fail("load axe-core: %v", err)
		}
	}
	opts := ""
	if !r.css {
		opts = `preload: false, rules: {'css-orientation-lock': {enabled: false}},`
	}
	only := `runOnly: {type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'wcag22aa', 'best-practice']}`
	if r.colourOnly {
		rules, _ := json.Marshal(axeColourRules)
		only = `runOnly: {type: 'rule', values: ` + string(rules) + `}`
	}
	raw := eval[string](p, `axe.run(`+r.where+`, {resultTypes: ['violations'], `+opts+only+`})
		.then(r => JSON.stringify(r.violations))`)
	var out []axeViolation
	if err := json.Unmarshal([]byte(raw), &out); err != nil {
		p.fail("axe result: %v", err)
	}
	return out
}

// crawlShots saves the crawl's screenshots when CRAWL_SHOTS names a folder.
type crawlShots struct {
	dir  string
	mu   sync.Mutex
	list []string
}

func newCrawlShots(t *testing.T) *crawlShots {
	dir := os.Getenv("CRAWL_SHOTS")
	s := &crawlShots{dir: dir}
	if dir == "" {
		return s
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.index(t) })
	return s
}

func (s *crawlShots) take(p *page, name, view, state string) {
	if s.dir == "" {
		return
	}
	p.t.Helper()
	who := strings.TrimSuffix(cmp.Or(p.email, "anonymous"), ".test")
	file := strings.Join(slices.DeleteFunc([]string{name, who, view, state}, func(s string) bool { return s == "" }), "_") + ".png"
	png, err := chromedp.Run(p.bounded(), chromedp.FullScreenshot(100))
	if err != nil {
		p.fail("screenshot: %v", err)
	}
	if err := os.WriteFile(filepath.Join(s.dir, file), png, 0o644); err != nil {
		p.t.Fatal(err)
	}
	s.mu.Lock()
	s.list = append(s.list, file)
	s.mu.Unlock()
}

// index writes index.html: every screenshot, grouped by page.
func (s *crawlShots) index(t *testing.T) {
	sort.Strings(s.list)
	var b strings.Builder
	b.WriteString("<!DOCTYPE html><meta charset=utf-8><title>Page crawl</title><style>body{font:14px system-ui;margin:16px}figure{display:inline-block;vertical-align:top;margin:8px}img{max-width:320px;border:1px solid #ccc}figcaption{max-width:320px;overflow-wrap:anywhere}</style>")
	fmt.Fprintf(&b, "<h1>Page crawl, %d screenshots</h1>", len(s.list))
	last := ""
	for _, f := range s.list {
		page, _, _ := strings.Cut(f, "_")
		if page != last {
			fmt.Fprintf(&b, "<h2>%s</h2>", html.EscapeString(page))
			last = page
		}
		fmt.Fprintf(&b, `<figure><a href="%[1]s"><img loading="lazy" src="%[1]s" alt=""></a><figcaption>%[1]s</figcaption></figure>`, html.EscapeString(f))
	}
	if err := os.WriteFile(filepath.Join(s.dir, "index.html"), []byte(b.String()), 0o644); err != nil {
		t.Error(err)
	}
	abs, _ := filepath.Abs(s.dir)
	t.Logf("crawl screenshots: %s/index.html", abs)
}

// exec runs JavaScript for its effect.
func (p *page) exec(what, js string) {
	p.t.Helper()
	if _, err := chromedp.Run(p.bounded(), chromedp.Evaluate[any](js+";true")); err != nil {
		p.fail("%s: %v", what, err)
	}
}
