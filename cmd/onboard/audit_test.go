package main

import (
	"fmt"
	"html"
	"net/http"
	"regexp"
	"strings"
	"testing"
)

// TestAuditLog: the audit log reads as words (actions, the tenant linked, changes old → new,
// never raw JSON), filters by action, actor and draft, pages by keyset and exports CSV.
func TestAuditLog(t *testing.T) {
	t.Parallel()
	base := startApp(t, nil)
	owner := client(t, base, "owner@acme.test")
	operator := client(t, base, "operator@acme.test")
	api := newAPIClient(t, base)
	id := createDraftAPI(t, owner, base, "c0ffee00-1d3e-4f50-8a9b-0c1d2e3f4a5c", "Tailspin", "tailspin.healthy.test")
	other := createDraftAPI(t, owner, base, "c0ffee00-1d3e-4f50-8a9b-0c1d2e3f4a5d", "Other", "other.healthy.test")
	// 55 renames by the operator: more than one page.
	for v := 1; v <= 55; v++ {
		r := api.do(t, operator, http.MethodPatch, draftPath(id), fmt.Sprintf(`{"display_name":"Tailspin %d"}`, v), "If-Match", fmt.Sprintf(`"%d"`, v))
		wantStatus(t, "rename", r, http.StatusOK)
	}
	audit := base + "/admin/workspaces/acme/audit"

	code, body, _ := get(t, owner, audit, "text/html")
	if code != 200 {
		t.Fatalf("audit page = %d", code)
	}
	rows := regexp.MustCompile(`data-testid="audit-row"`).FindAllStringIndex(body, -1)
	if len(rows) != 50 {
		t.Errorf("first page has %d rows, want 50", len(rows))
	}
	for _, want := range []string{"Details saved", "Display name changed", "Tailspin 54", "→", `href="/admin/workspaces/acme/onboarding/` + id + `"`} {
		if !strings.Contains(body, want) {
			t.Errorf("audit page lacks %q", want)
		}
	}
	if strings.Contains(body, `{&#34;`) || strings.Contains(body, `{"`) {
		t.Error("audit page shows raw JSON")
	}
	m := regexp.MustCompile(`href="(/admin/workspaces/acme/audit\?after=[^"]+&amp;page=2)"[^>]*data-testid="audit-next">Older`).FindStringSubmatch(body)
	if m == nil {
		t.Fatal("no link to older entries")
	}
	_, page2, _ := get(t, owner, base+html.UnescapeString(m[1]), "text/html")
	if !regexp.MustCompile(`href="/admin/workspaces/acme/audit"[^>]*data-testid="audit-prev">← Newer`).MatchString(page2) {
		t.Error("page 2 has no link to newer entries (the first page)")
	}
	ids := func(html string) []int {
		var out []int
		for _, m := range regexp.MustCompile(`data-testid="audit-row" data-action="[^"]*" data-id="(\d+)"`).FindAllStringSubmatch(html, -1) {
			n := 0
			fmt.Sscan(m[1], &n)
			out = append(out, n)
		}
		return out
	}
	first, second := ids(body), ids(page2)
	if len(second) == 0 || len(first) == 0 || second[0] >= first[len(first)-1] || !strings.Contains(page2, "Onboarding started") {
		t.Errorf("second page (ids %v) does not continue after the first (last id %v)", second, first[len(first)-1:])
	}

	count := func(q string) int {
		t.Helper()
		code, body, _ := get(t, owner, audit+q, "text/html")
		if code != 200 {
			t.Fatalf("GET audit%s = %d", q, code)
		}
		return len(regexp.MustCompile(`data-testid="audit-row"`).FindAllStringIndex(body, -1))
	}
	if n := count("?action=onboarding.draft.created"); n != 2 {
		t.Errorf("action filter: %d rows, want 2", n)
	}
	if n := count("?actor=owner@acme.test&action=onboarding.draft.updated"); n != 0 {
		t.Errorf("actor filter: %d owner renames, want 0", n)
	}
	if n := count("?draft=" + other); n != 1 {
		t.Errorf("draft filter: %d rows for the other draft, want 1", n)
	}
	// q searches the action (its words too), the actor, the subject and changed values.
	if n := count("?q=onboarding%20started"); n != 2 {
		t.Errorf("q=onboarding started: %d rows, want the 2 creations", n)
	}
	if n := count("?q=TAILSPIN%2054"); n != 2 {
		t.Errorf("q=Tailspin 54: %d rows, want the 2 renames to and from it", n)
	}
	if n := count("?q=operator%40acme&action=onboarding.draft.updated&per_page=100"); n != 55 {
		t.Errorf("q=operator@acme: %d renames, want 55", n)
	}
	if n := count("?from=2000-01-01&to=2000-01-02"); n != 0 {
		t.Errorf("date filter: %d rows in 2000, want 0", n)
	}
	for _, q := range []string{"?draft=nope", "?from=yesterday", "?before=x", "?action=DROP%20TABLE"} {
		if code, _, _ := get(t, owner, audit+q, "text/html"); code != 400 {
			t.Errorf("GET audit%s = %d, want 400", q, code)
		}
	}
	if code, _, _ := get(t, operator, audit, "text/html"); code != 403 {
		t.Errorf("audit as operator = %d, want 403", code)
	}

	code, csvBody, h := get(t, owner, audit+"?format=csv&action=onboarding.draft.updated", "text/csv")
	if code != 200 || !strings.HasPrefix(h.Get("Content-Type"), "text/csv") || !strings.Contains(h.Get("Content-Disposition"), "attachment") {
		t.Fatalf("CSV export = %d %q %q", code, h.Get("Content-Type"), h.Get("Content-Disposition"))
	}
	lines := strings.Split(strings.TrimSpace(csvBody), "\n")
	if len(lines) != 56 || !strings.HasPrefix(lines[0], "when,who,action") || !strings.Contains(lines[1], "Display name: Tailspin 54 → Tailspin 55") {
		t.Errorf("CSV: %d lines, header %q, first %q", len(lines), lines[0], lines[1])
	}
}
