package main

import (
	"fmt"
	"html"
	"regexp"
	"strings"
	"testing"
)

// TestDraftsList: the drafts list pages by keyset (50 a page, or per_page), counts states over the whole
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
	if !strings.Contains(body, `data-chip-count="all">55</span>`) {
		t.Error("the All tab does not count all 55 drafts")
	}
	next := regexp.MustCompile(`href="([^"]+)"[^>]*data-testid="drafts-next"`).FindStringSubmatch(body)
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
	// per_page: 25, 50, 100 or 500, kept by the next page's link.
	if _, n := page(list + "?per_page=500"); n != 55 {
		t.Errorf("per_page=500: %d rows, want 55", n)
	}
	body25, n25 := page(list + "?per_page=25&sort=name")
	next25 := regexp.MustCompile(`href="([^"]+)"[^>]*data-testid="drafts-next"`).FindStringSubmatch(body25)
	if n25 != 25 || next25 == nil || !strings.Contains(next25[1], "per_page=25") {
		t.Fatalf("per_page=25: %d rows, next %v; want 25 rows and a next link keeping per_page", n25, next25)
	}
	if body, n := page(base + html.UnescapeString(next25[1])); n != 25 || !strings.Contains(body, "Tenant 25") {
		t.Errorf("per_page=25 second page: %d rows, want 25 from Tenant 25", n)
	}
	for _, q := range []string{"?sort=evil", "?after=!!!", "?after=dDF8eHx5", "?lifecycle=nope", "?per_page=7", "?per_page=abc",
		"?per_page=5000", "?per_page=-50", "?per_page=50.0", "?dir=up", "?page=0", "?page=x", "?format=xml", "?q=%00",
		"?after=" + html.UnescapeString(regexp.MustCompile(`after=([^&"]+)`).FindStringSubmatch(next[1])[1]) + "&before=x"} {
		if code, _, _ := get(t, owner, list+q, "text/html"); code != 400 {
			t.Errorf("GET list%s = %d, want 400", q, code)
		}
	}
}
