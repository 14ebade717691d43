package main

import (
	"context"
	"encoding/csv"
	"fmt"
	"html"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"
)

// The list tables (views/table.templ, internal/web/list.go) over HTTP and PostgreSQL: sort
// and dir, q, totals that follow the filters, numbered and keyset pages, the remembered page
// size, removable chips, CSV exports (quoting and formula injection) and "Cancel selected".

var (
	rowsRE  = regexp.MustCompile(`data-testid="draft-row"`)
	totalRE = regexp.MustCompile(`data-testid="list-total" data-total="(\d+)"`)
)

// listPage GETs u as c (200 wanted) and returns the body and its number of draft rows.
func listPage(t *testing.T, c *http.Client, u string) (string, int) {
	t.Helper()
	code, body, _ := get(t, c, u, "text/html")
	if code != 200 {
		t.Fatalf("GET %s = %d", u, code)
	}
	return body, len(rowsRE.FindAllStringIndex(body, -1))
}

func listTotal(t *testing.T, body string) string {
	t.Helper()
	m := totalRE.FindStringSubmatch(body)
	if m == nil {
		j := strings.Index(body, "data-list=")
		t.Fatalf("the list shows no total: %.2000s", body[max(j, 0):])
	}
	return m[1]
}

// linkOf is the href of the element with data-testid testid, unescaped ("" when none).
func linkOf(body, testid string) string {
	m := regexp.MustCompile(`href="([^"]*)"[^>]*data-testid="` + regexp.QuoteMeta(testid) + `"`).FindStringSubmatch(body)
	if m == nil {
		return ""
	}
	return html.UnescapeString(m[1])
}

func TestListTables(t *testing.T) {
	t.Parallel()
	base, conn := startAppOnDB(t, nil)
	owner := client(t, base, "owner@acme.test")
	for i := range 30 {
		createDraftAPI(t, owner, base, fmt.Sprintf("b0b00000-0000-4000-8000-%012d", i), fmt.Sprintf("Bulk%02d", i), fmt.Sprintf("b%02d.healthy.test", i))
	}
	hostile := map[string]string{
		"b0b00000-0000-4000-8000-100000000001": `=cmd|' /C calc'!A0`,
		"b0b00000-0000-4000-8000-100000000002": `Quote, "Inc"`,
		"b0b00000-0000-4000-8000-100000000003": `+sum`,
		"b0b00000-0000-4000-8000-100000000004": `@at`,
		"b0b00000-0000-4000-8000-100000000005": `-minus`,
	}
	for tid, name := range hostile {
		createDraftAPI(t, owner, base, tid, name, "x"+tid[len(tid)-1:]+".healthy.test")
	}
	t.Run("Drafts", func(t *testing.T) { listsDrafts(t, base, owner) })
	t.Run("DraftsCSV", func(t *testing.T) { listsDraftsCSV(t, base, owner, hostile) })
	t.Run("Operations", func(t *testing.T) { listsOperations(t, base, owner) })
	t.Run("OperationsPages", func(t *testing.T) { listsOperationsPages(t, base, owner, conn) })
	t.Run("Members", func(t *testing.T) { listsMembers(t, base, owner) })
	t.Run("BulkCancel", func(t *testing.T) { listsBulkCancel(t, base, owner) })
}

func listsDrafts(t *testing.T, base string, owner *http.Client) {
	list := base + "/admin/workspaces/acme/onboarding"
	// The total and the status tabs follow the search (they said "All 76" over 10 rows).
	body, n := listPage(t, owner, list+"?q=bulk")
	if n != 30 || listTotal(t, body) != "30" || !strings.Contains(body, `data-chip-count="all">30</span>`) ||
		!strings.Contains(body, `data-chip-count="draft">30</span>`) {
		t.Errorf("q=bulk: %d rows, total %s; want 30 rows, a total and an All tab of 30", n, listTotal(t, body))
	}
	body, n = listPage(t, owner, list+"?q=bulk1")
	if n != 10 || listTotal(t, body) != "10" || !strings.Contains(body, `data-chip-count="all">10</span>`) {
		t.Errorf("q=bulk1: %d rows, total %s; want 10 and All 10", n, listTotal(t, body))
	}
	if body, _ := listPage(t, owner, list); listTotal(t, body) != "35" {
		t.Errorf("no filter: total %s, want 35", listTotal(t, body))
	}

	// Sorting: by name both ways, aria-sort and the header's link to the other direction.
	asc, _ := listPage(t, owner, list+"?q=bulk&sort=name&dir=asc")
	desc, _ := listPage(t, owner, list+"?q=bulk&sort=name&dir=desc")
	if i, j := strings.Index(asc, "Bulk00"), strings.Index(asc, "Bulk29"); i < 0 || j < 0 || i > j {
		t.Error("sort=name&dir=asc does not list Bulk00 before Bulk29")
	}
	if i, j := strings.Index(desc, "Bulk00"), strings.Index(desc, "Bulk29"); i < 0 || j < 0 || j > i {
		t.Error("sort=name&dir=desc does not list Bulk29 before Bulk00")
	}
	if !strings.Contains(asc, `aria-sort="ascending"`) || !strings.Contains(desc, `aria-sort="descending"`) {
		t.Error("the sorted column has no aria-sort")
	}
	if l := linkOf(asc, "sort-name"); !strings.Contains(l, "dir=desc") || !strings.Contains(l, "q=bulk") {
		t.Errorf("the sorted header links to %q, want the other direction keeping the search", l)
	}
	for _, s := range []string{"status", "checkpoint", "updated"} {
		listPage(t, owner, list+"?sort="+s+"&dir=asc")
	}

	// Pages: numbered (offset) and Previous / Next (keyset), with the filters kept.
	p1, n1 := listPage(t, owner, list+"?q=bulk&sort=name&dir=asc&per_page=25")
	next := linkOf(p1, "drafts-next")
	if n1 != 25 || !strings.Contains(next, "after=") || !strings.Contains(next, "page=2") || linkOf(p1, "drafts-prev") != "" {
		t.Fatalf("page 1: %d rows, next %q; want 25 rows, a keyset next link and no previous", n1, next)
	}
	p2, n2 := listPage(t, owner, base+next)
	if n2 != 5 || !strings.Contains(p2, "Bulk25") || strings.Contains(p2, "Bulk24") || linkOf(p2, "drafts-next") != "" {
		t.Errorf("page 2: %d rows, want Bulk25–29 and no next", n2)
	}
	if !strings.Contains(p2, "26–30 of <strong>30</strong>") {
		t.Error("page 2 does not say 26–30 of 30")
	}
	back, nb := listPage(t, owner, base+linkOf(p2, "drafts-prev"))
	if nb != 25 || !strings.Contains(back, "Bulk00") {
		t.Errorf("previous from page 2: %d rows, want page 1 again", nb)
	}
	numbered, nn := listPage(t, owner, list+"?q=bulk&sort=name&dir=asc&per_page=25&page=2")
	if nn != 5 || !strings.Contains(numbered, "Bulk25") || !strings.Contains(numbered, `aria-current="page" data-testid="page-link">2<`) {
		t.Errorf("page=2: %d rows, want Bulk25–29 with page 2 current", nn)
	}

	// Keyset pages over ties (every draft has the same status): each draft once, both ways.
	ids := func(body string) []string {
		var out []string
		for _, m := range regexp.MustCompile(`id="draft-row-([0-9a-f-]{36})"`).FindAllStringSubmatch(body, -1) {
			out = append(out, m[1])
		}
		return out
	}
	s1, _ := listPage(t, owner, list+"?sort=status&per_page=25")
	s2, _ := listPage(t, owner, base+linkOf(s1, "drafts-next"))
	seen := map[string]bool{}
	for _, id := range append(ids(s1), ids(s2)...) {
		if seen[id] {
			t.Errorf("sort=status: draft %s on both pages", id)
		}
		seen[id] = true
	}
	if len(seen) != 35 {
		t.Errorf("sort=status: %d drafts over two pages, want all 35", len(seen))
	}
	if b, _ := listPage(t, owner, base+linkOf(s2, "drafts-prev")); strings.Join(ids(b), ",") != strings.Join(ids(s1), ",") {
		t.Error("sort=status: previous from page 2 is not page 1")
	}
	// A page past the end says so and leads back.
	if body, n := listPage(t, owner, list+"?page=9"); n != 0 || !strings.Contains(body, `data-testid="page-past-end"`) {
		t.Errorf("page=9: %d rows and no way back", n)
	}

	// Chips: each active filter removable on its own.
	chips, _ := listPage(t, owner, list+"?q=bulk&lifecycle=draft")
	if got := strings.Count(chips, `data-testid="filter-chip"`); got != 2 {
		t.Fatalf("%d chips, want 2 (status, search)", got)
	}
	rm := regexp.MustCompile(`data-filter="q"[^>]*>.*?href="([^"]*)"`).FindStringSubmatch(chips)
	if rm == nil || strings.Contains(html.UnescapeString(rm[1]), "q=") || !strings.Contains(html.UnescapeString(rm[1]), "lifecycle=draft") {
		t.Errorf("the search chip removes to %v, want the list without q but with the status", rm)
	}

	// The page size is remembered (a cookie) when chosen in the URL.
	listPage(t, owner, list+"?per_page=25")
	if _, n := listPage(t, owner, list); n != 25 {
		t.Errorf("after per_page=25: %d rows without per_page, want 25 (remembered)", n)
	}
	listPage(t, owner, list+"?per_page=50")

	for _, q := range []string{"?sort=name&dir=sideways", "?page=100001", "?q=" + strings.Repeat("x", 201), "?before=x"} {
		if code, _, _ := get(t, owner, list+q, "text/html"); code != 400 {
			t.Errorf("GET list%s = %d, want 400", q, code)
		}
	}
}

// readCSV GETs a CSV export and parses it (RFC 4180).
func readCSV(t *testing.T, c *http.Client, u string) ([][]string, string) {
	t.Helper()
	code, body, h := get(t, c, u, "text/csv")
	if code != 200 || !strings.HasPrefix(h.Get("Content-Type"), "text/csv") || !strings.Contains(h.Get("Content-Disposition"), "attachment") {
		t.Fatalf("GET %s = %d %q %q", u, code, h.Get("Content-Type"), h.Get("Content-Disposition"))
	}
	recs, err := csv.NewReader(strings.NewReader(body)).ReadAll()
	if err != nil {
		t.Fatalf("%s is no CSV: %v", u, err)
	}
	return recs, body
}

func listsDraftsCSV(t *testing.T, base string, owner *http.Client, hostile map[string]string) {
	list := base + "/admin/workspaces/acme/onboarding"
	recs, raw := readCSV(t, owner, list+"?format=csv&q=bulk&sort=name&dir=asc&per_page=25&page=2")
	if len(recs) != 31 || recs[0][2] != "display_name" || recs[1][2] != "Bulk00" || recs[30][2] != "Bulk29" {
		t.Errorf("CSV of q=bulk: %d records (want the header and all 30, every page, in order)", len(recs))
	}
	if !strings.Contains(raw, "\r\n") {
		t.Error("CSV lines do not end in CRLF (RFC 4180)")
	}
	all, raw := readCSV(t, owner, list+"?format=csv")
	names := map[string]bool{}
	for _, r := range all[1:] {
		names[r[2]] = true
	}
	for _, want := range []string{`'=cmd|' /C calc'!A0`, `Quote, "Inc"`, `'+sum`, `'@at`, `'-minus`} {
		if !names[want] {
			t.Errorf("CSV lacks the cell %q (formula neutralised, quotes kept)", want)
		}
	}
	if !strings.Contains(raw, `"Quote, ""Inc"""`) {
		t.Error(`CSV does not quote "Quote, ""Inc""" (RFC 4180)`)
	}
	if recs, _ := readCSV(t, owner, list+"?format=csv&lifecycle=completed"); len(recs) != 1 {
		t.Errorf("CSV of no drafts: %d records, want the header only", len(recs))
	}
	viewer := client(t, base, "viewer@acme.test")
	if recs, _ := readCSV(t, viewer, list+"?format=csv&q=bulk1"); len(recs) != 11 {
		t.Errorf("viewer CSV of q=bulk1: %d records, want 11: %v", len(recs), recs)
	}
	globex := client(t, base, "owner@globex.test")
	if code, _, _ := get(t, globex, list+"?format=csv", "text/csv"); code != 404 {
		t.Errorf("CSV as a non-member = %d, want 404", code)
	}
}

func listsOperations(t *testing.T, base string, owner *http.Client) {
	s := &apiSetup{api: newAPIClient(t, base), owner: owner}
	for _, d := range []string{"ops-a.healthy.test", "ops-b.healthy.test", "ops-c.healthy.test"} {
		s.startVerification(t, d)
	}
	ops := base + "/admin/workspaces/acme/operations"
	runRE := regexp.MustCompile(`data-testid="run-row"`)
	body, _ := listPage(t, owner, ops+"?q=ops-b")
	if n := len(runRE.FindAllStringIndex(body, -1)); n != 1 || listTotal(t, body) != "1" {
		t.Errorf("q=ops-b: %d runs, total %s; want 1", n, listTotal(t, body))
	}
	body, _ = listPage(t, owner, ops+"?q=owner%40acme&per_page=25&sort=type&dir=asc")
	if n := len(runRE.FindAllStringIndex(body, -1)); n != 3 || listTotal(t, body) != "3" || !strings.Contains(body, `aria-sort="ascending"`) {
		t.Errorf("q=owner@acme: %d runs, total %s; want 3", n, listTotal(t, body))
	}
	if !strings.Contains(body, `data-testid="filter-chip"`) || !strings.Contains(body, `list="f-tenants"`) {
		t.Error("the operations list lacks the search chip or the tenant combobox")
	}
	// The combobox sends a tenant's name; the list filters by its draft.
	body, _ = listPage(t, owner, ops+"?tenant=scenario")
	if n := len(runRE.FindAllStringIndex(body, -1)); n != 1 || !strings.Contains(body, `value="Scenario"`) {
		t.Errorf("tenant=scenario: %d runs, want the one of the first draft named Scenario", n)
	}
	for _, q := range []string{"?tenant=nobody", "?sort=duration", "?dir=x", "?format=pdf", "?tenant=%00"} {
		if code, _, _ := get(t, owner, ops+q, "text/html"); code != 400 {
			t.Errorf("GET operations%s = %d, want 400", q, code)
		}
	}
	recs, _ := readCSV(t, owner, ops+"?format=csv&q=ops-")
	if len(recs) != 4 || recs[0][1] != "type" || recs[1][1] != "verify_access" || recs[1][4] != "Scenario" {
		t.Errorf("operations CSV: %v", recs)
	}
	if recs, _ := readCSV(t, owner, ops+"?format=csv&status=completed&outcome=failed"); len(recs) != 1 {
		t.Errorf("operations CSV of failed runs: %d records, want the header only", len(recs))
	}
}

func listsMembers(t *testing.T, base string, owner *http.Client) {
	members := base + "/admin/workspaces/acme/members"
	rowRE := regexp.MustCompile(`data-testid="member-row" data-email="([^"]+)"`)
	emails := func(u string) []string {
		body, _ := listPage(t, owner, u)
		var out []string
		for _, m := range rowRE.FindAllStringSubmatch(body, -1) {
			out = append(out, m[1])
		}
		return out
	}
	if got := emails(members + "?q=operator"); len(got) != 2 {
		t.Errorf("members q=operator: %v, want the two operators", got)
	}
	if got := emails(members + "?sort=email&dir=desc"); len(got) < 2 || got[0] != "viewer@acme.test" {
		t.Errorf("members by email, descending: %v, want viewer first", got)
	}
	if got := emails(members + "?sort=role&dir=asc"); len(got) < 1 || got[0] != "owner@acme.test" {
		t.Errorf("members by role: %v, want the owner first", got)
	}
	if got := emails(members + "?per_page=25&page=2"); len(got) != 0 {
		t.Errorf("members page 2: %v, want none", got)
	}
	// The role filter: only that role's members, a chip to remove it, kept by the sort links.
	if got := emails(members + "?role=operator"); len(got) != 2 || !slices.Contains(got, "operator@acme.test") || !slices.Contains(got, "operator2@acme.test") {
		t.Errorf("members role=operator: %v, want the two operators", got)
	}
	if got := emails(members + "?role=viewer&q=operator"); len(got) != 0 {
		t.Errorf("members role=viewer&q=operator: %v, want none", got)
	}
	body, _ := listPage(t, owner, members+"?role=owner&sort=email&dir=desc")
	if !strings.Contains(body, `data-filter="role"`) || !strings.Contains(body, "Role: Owner") ||
		!strings.Contains(body, `<option value="owner" selected>`) || !strings.Contains(body, `role=owner&amp;sort=since`) {
		t.Error("members role=owner: want its chip, the filter's choice and sort links that keep it")
	}
	for _, q := range []string{"?sort=password", "?after=x", "?role=admin", "?role=Owner"} {
		if code, _, _ := get(t, owner, members+q, "text/html"); code != 400 {
			t.Errorf("GET members%s = %d, want 400", q, code)
		}
	}
}

func listsBulkCancel(t *testing.T, base string, owner *http.Client) {
	list := base + "/admin/workspaces/acme/onboarding"
	api := newAPIClient(t, base)
	ids := map[string]string{}
	for _, n := range []string{"Bulk00", "Bulk01", "Bulk02"} {
		body, _ := listPage(t, owner, list+"?q="+url.QueryEscape(n))
		m := regexp.MustCompile(`data-draft-id="([0-9a-f-]{36})" data-version="(\d+)"`).FindStringSubmatch(body)
		if m == nil {
			t.Fatalf("no row for %s", n)
		}
		ids[n] = m[1]
	}
	// Bulk01 changes after the list showed it at version 1; Bulk02 is cancelled already.
	wantStatus(t, "rename", api.do(t, owner, http.MethodPatch, draftPath(ids["Bulk01"]), `{"display_name":"Bulk01 renamed"}`, "If-Match", `"1"`), http.StatusOK)
	wantStatus(t, "cancel", api.do(t, owner, http.MethodPost, draftPath(ids["Bulk02"])+"/cancellation", "", "If-Match", `"1"`), http.StatusOK)
	form := url.Values{"confirm": {"yes"}, "draft": {ids["Bulk00"] + ":1", ids["Bulk01"] + ":1", ids["Bulk02"] + ":2"}}

	operator := client(t, base, "operator@acme.test")
	if code, _, _ := postForm(t, operator, list+"/cancellations", form); code != 403 {
		t.Errorf("Cancel selected as operator = %d, want 403", code)
	}
	viewer := client(t, base, "viewer@acme.test")
	if code, _, _ := postForm(t, viewer, list+"/cancellations", form); code != 403 {
		t.Errorf("Cancel selected as viewer = %d, want 403", code)
	}
	if body, _ := listPage(t, operator, list); strings.Contains(body, `data-testid="bulk-cancel"`) || strings.Contains(body, `is-selectable`) {
		t.Error("an operator sees Cancel selected")
	}
	globex := client(t, base, "owner@globex.test")
	if code, _, _ := postForm(t, globex, list+"/cancellations", form); code != 404 {
		t.Errorf("Cancel selected as a non-member = %d, want 404", code)
	}
	for _, bad := range []url.Values{{"draft": form["draft"]}, {"confirm": {"yes"}}, {"confirm": {"yes"}, "draft": {"nope:1"}},
		{"confirm": {"yes"}, "draft": {ids["Bulk00"]}}} {
		if code, _, _ := postForm(t, owner, list+"/cancellations", bad); code != 400 {
			t.Errorf("Cancel selected %v = %d, want 400", bad, code)
		}
	}
	code, _, h := postForm(t, owner, list+"/cancellations", form)
	if code != 303 || !strings.HasPrefix(h.Get("Location"), "/admin/workspaces/acme/onboarding") {
		t.Fatalf("Cancel selected = %d → %q, want 303 to the list", code, h.Get("Location"))
	}
	body, _ := listPage(t, owner, list)
	for n, want := range map[string]string{"Bulk00": "cancelled", "Bulk01": "conflict", "Bulk02": "skipped_cancelled"} {
		if !strings.Contains(body, `data-draft-id="`+ids[n]+`" data-outcome="`+want+`"`) {
			t.Errorf("result for %s is not %s", n, want)
		}
	}
	if !strings.Contains(body, "1 of 3 cancelled") {
		t.Error("the results do not say 1 of 3 cancelled")
	}
	if body, _ := listPage(t, owner, list); strings.Contains(body, `data-testid="bulk-results"`) {
		t.Error("the results show again on the next visit")
	}
	d := api.do(t, owner, http.MethodGet, draftPath(ids["Bulk01"]), "").object(t)
	if d["lifecycle_state"] != "draft" {
		t.Errorf("the draft changed meanwhile is %v, want left as it was (draft)", d["lifecycle_state"])
	}
	audit := base + "/admin/workspaces/acme/audit?action=onboarding.cancelled&draft="
	for n, want := range map[string]int{"Bulk00": 1, "Bulk01": 0, "Bulk02": 1} {
		_, body, _ := get(t, owner, audit+ids[n], "text/html")
		if got := strings.Count(body, `data-testid="audit-row"`); got != want {
			t.Errorf("%s: %d cancellation entries, want %d", n, got, want)
		}
	}
}

// listsOperationsPages: 60 finished runs of one draft, a second apart, paged by keyset both
// ways, by start and by status (all alike: ties broken by id), each run once.
func listsOperationsPages(t *testing.T, base string, owner *http.Client, conn *pgx.Conn) {
	if _, err := conn.Exec(context.Background(), `INSERT INTO operation_runs
			(workspace_id, tenant_id, draft_id, type, status, outcome, created_at, started_at, completed_at)
		SELECT workspace_id, tenant_id, id, 'bootstrap.policy_sync', 'completed', 'succeeded',
			now() - g * interval '1 second', now() - g * interval '1 second', now()
		FROM managed_tenant_onboarding_sessions, generate_series(1, 60) g WHERE display_name = 'Bulk07'`); err != nil {
		t.Fatal(err)
	}
	ops := base + "/admin/workspaces/acme/operations"
	runIDs := func(body string) []string {
		var out []string
		for _, m := range regexp.MustCompile(`data-testid="run-row" data-run-id="([0-9a-f-]{36})"`).FindAllStringSubmatch(body, -1) {
			out = append(out, m[1])
		}
		return out
	}
	for _, sort := range []string{"started", "status"} {
		u := ops + "?type=bootstrap.policy_sync&per_page=25&sort=" + sort
		var pages [][]string
		seen := map[string]bool{}
		for u != "" && len(pages) < 5 {
			body, _ := listPage(t, owner, u)
			ids := runIDs(body)
			pages = append(pages, ids)
			for _, id := range ids {
				if seen[id] {
					t.Errorf("sort=%s: run %s twice", sort, id)
				}
				seen[id] = true
			}
			if listTotal(t, body) != "60" {
				t.Errorf("sort=%s: total %s, want 60", sort, listTotal(t, body))
			}
			if next := linkOf(body, "runs-next"); next != "" {
				u = base + next
			} else {
				// Back from the last page by keyset: the page before it again.
				prev, _ := listPage(t, owner, base+linkOf(body, "runs-prev"))
				if got, want := strings.Join(runIDs(prev), ","), strings.Join(pages[len(pages)-2], ","); got != want {
					t.Errorf("sort=%s: previous from the last page is not the page before it", sort)
				}
				u = ""
			}
		}
		if len(seen) != 60 || len(pages) != 3 {
			t.Errorf("sort=%s: %d runs over %d pages, want 60 over 3", sort, len(seen), len(pages))
		}
	}
	if recs, _ := readCSV(t, owner, ops+"?format=csv&type=bootstrap.policy_sync"); len(recs) != 61 {
		t.Errorf("CSV of the 60 runs: %d records, want 61", len(recs))
	}
}
