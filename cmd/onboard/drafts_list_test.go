package main

import (
	"fmt"
	"html"
	"regexp"
	"strings"
	"testing"
)

// TestDraftsList: the drafts list pages by keyset (50 a page), counts states over the whole
// workspace, searches name, domain and tenant id, sorts by name, and refuses bad parameters.
func TestDraftsList(t *testing.T) {
	t.Parallel()
	base := startApp(t, nil)
	owner := client(t, base, "owner@acme.test")
	for i := range 55 {
		createDraftAPI(t, owner, base, fmt.Sprintf("c0ffee00-0000-4000-8000-%012d", i), fmt.Sprintf("Tenant %02d", i), fmt.Sprintf("t%02d.healthy.test", i))
	}
	list := base + "/admin/workspaces/acme/onboarding"
	rowRE := regexp.MustCompile(`data-testid="draft-row"`)
	page := func(u string) (string, int) {
		t.Helper()
		code, body, _ := get(t, owner, u, "text/html")
		if code != 200 {
			t.Fatalf("GET %s = %d", u, code)
		}
		return body, len(rowRE.FindAllStringIndex(body, -1))
	}
	body, n := page(list)
	if n != 50 {
		t.Errorf("first page: %d rows, want 50", n)
	}
	if !strings.Contains(body, `<span class="chip-count">55</span>`) {
		t.Error("the All tab does not count all 55 drafts")
	}
	next := regexp.MustCompile(`href="([^"]+)" data-testid="drafts-next"`).FindStringSubmatch(body)
	if next == nil {
		t.Fatal("no next page link")
	}
	body2, n2 := page(base + html.UnescapeString(next[1]))
	if n2 != 5 || !strings.Contains(body2, "Tenant 00") || strings.Contains(body2, "Tenant 54") {
		t.Errorf("second page: %d rows, want the 5 oldest", n2)
	}
	if _, n := page(list + "?q=T07.HEALTHY"); n != 1 {
		t.Errorf("search by domain: %d rows, want 1", n)
	}
	if _, n := page(list + "?q=c0ffee00-0000-4000-8000-00000000001"); n != 10 {
		t.Errorf("search by tenant id prefix: %d rows, want 10", n)
	}
	byName, _ := page(list + "?sort=name")
	if i, j := strings.Index(byName, "Tenant 00"), strings.Index(byName, "Tenant 01"); i < 0 || j < 0 || i > j {
		t.Error("sort=name does not list Tenant 00 before Tenant 01")
	}
	if _, n := page(list + "?q=%25"); n != 0 {
		t.Errorf("a literal %% matched %d rows, want 0", n)
	}
	for _, q := range []string{"?sort=evil", "?after=!!!", "?after=dDF8eHx5", "?lifecycle=nope"} {
		if code, _, _ := get(t, owner, list+q, "text/html"); code != 400 {
			t.Errorf("GET list%s = %d, want 400", q, code)
		}
	}
}
