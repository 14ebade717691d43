package web_test

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/alexedwards/scs/v2/memstore"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/tenantops/onboard/internal/access"
	"github.com/tenantops/onboard/internal/fault"
	"github.com/tenantops/onboard/internal/membership"
	"github.com/tenantops/onboard/internal/onboarding"
	"github.com/tenantops/onboard/internal/operation"
	"github.com/tenantops/onboard/internal/web"
)

// searchAccounts are fakeAccounts plus guest@acme.test, a member whose role holds no
// capability (the 403 of the search page).
type searchAccounts struct{ fakeAccounts }

const guest = "guest@acme.test"

func (a searchAccounts) UserCredentials(ctx context.Context, email string) (access.User, string, error) {
	if email == guest {
		return access.User{ID: 9, Email: guest}, guest, nil
	}
	return a.fakeAccounts.UserCredentials(ctx, email)
}

func (a searchAccounts) User(ctx context.Context, id int64) (access.User, error) {
	if id == 9 {
		return access.User{ID: 9, Email: guest}, nil
	}
	return a.fakeAccounts.User(ctx, id)
}

func (a searchAccounts) Member(ctx context.Context, u access.User, slug string) (access.Member, error) {
	if u.ID == 9 && slug == "acme" {
		return access.Member{User: u, WorkspaceID: 1, Workspace: "acme", WorkspaceName: "Acme", Role: "guest"}, nil
	}
	return a.fakeAccounts.Member(ctx, u, slug)
}

// searchStore answers the search's reads with fixed hits and counts the calls; the store
// filters, so it returns its hits whatever the search (up to the limit asked for).
type searchStore struct {
	web.DraftLister
	web.MemberService
	drafts  []onboarding.Draft
	runs    []onboarding.RunMatch
	members []membership.Member
	calls   atomic.Int64
	lastQ   atomic.Value
}

func (s *searchStore) DraftPage(_ context.Context, _ int64, f onboarding.DraftFilter) ([]onboarding.Draft, error) {
	s.calls.Add(1)
	s.lastQ.Store(f.Q)
	return s.drafts[:min(len(s.drafts), f.Limit)], nil
}

func (s *searchStore) SearchRuns(_ context.Context, _ int64, q string, limit int) ([]onboarding.RunMatch, error) {
	s.calls.Add(1)
	return s.runs[:min(len(s.runs), limit)], nil
}

func (s *searchStore) List(_ context.Context, m access.Member) ([]membership.Member, error) {
	s.calls.Add(1)
	if !m.Can(access.MembersManage) {
		return nil, fault.ErrForbidden
	}
	return s.members, nil
}

func newSearchApp(t *testing.T, st *searchStore) string {
	t.Helper()
	srv := web.New(web.Config{}, web.Deps{
		Logger:        slog.New(slog.DiscardHandler),
		Accounts:      searchAccounts{},
		Drafts:        st,
		Search:        st,
		Members:       st,
		Account:       fakeSecurity{},
		SessionStore:  memstore.New(),
		LoginAttempts: noLimits{},
		Registry:      prometheus.NewRegistry(),
		VerifyPW:      func(hash, pw string) (bool, error) { return hash == pw, nil },
	})
	ts := httptest.NewServer(srv.Handler())
	t.Cleanup(ts.Close)
	return ts.URL
}

func searchFixture() *searchStore {
	st := &searchStore{}
	for i := range 9 {
		st.drafts = append(st.drafts, onboarding.Draft{ID: draftID[:35] + string(rune('0'+i)), Workspace: "acme",
			TenantID: tenantID, DisplayName: "Contoso " + string(rune('A'+i)), PrimaryDomain: "contoso.healthy.test",
			Lifecycle: onboarding.LifecycleDraft, UpdatedAt: time.Unix(0, 0)})
	}
	st.drafts[0].DisplayName = "<script>alert('contoso')</script>"
	st.runs = []onboarding.RunMatch{{Run: operation.Run{ID: "7c1d2e3f-0000-4000-8000-000000000001", DraftID: st.drafts[1].ID,
		TenantID: tenantID, Type: operation.TypeVerifyAccess, Status: operation.StatusCompleted,
		Outcome: operation.OutcomeSucceeded, CreatedAt: time.Unix(0, 0)}, DraftName: "Contoso B"}}
	st.members = []membership.Member{
		{UserID: 1, Email: "owner@acme.test", Name: "Olive Contoso", Role: access.RoleOwner},
		{UserID: 3, Email: "viewer@acme.test", Role: access.RoleViewer},
	}
	return st
}

func getSearch(t *testing.T, c *http.Client, base, ws, rawQuery string) (int, string) {
	t.Helper()
	resp, err := c.Get(base + "/admin/workspaces/" + ws + "/search?" + rawQuery)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// TestHandlerSearch: the global search page as each kind of visitor, its groups, its bounds,
// its escaping, and bad input refused before any read.
func TestHandlerSearch(t *testing.T) {
	t.Parallel()
	st := searchFixture()
	base := newSearchApp(t, st)
	as := func(email string) *http.Client {
		c := (&handlerApp{url: base}).as(t, email)
		c.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
		return c
	}
	owner, viewer := as("owner@acme.test"), as("viewer@acme.test")

	t.Run("NonMember", func(t *testing.T) {
		outsider := as("outsider@acme.test")
		status, body := getSearch(t, outsider, base, "acme", "q=contoso")
		_, unknown := getSearch(t, outsider, base, "nowhere", "q=contoso")
		if status != http.StatusNotFound || body != unknown {
			t.Errorf("status %d, body same as an unknown workspace's: %v; want 404, true", status, body == unknown)
		}
	})
	t.Run("WithoutViewCapability", func(t *testing.T) {
		if status, _ := getSearch(t, as(guest), base, "acme", "q=contoso"); status != http.StatusForbidden {
			t.Errorf("status %d, want 403", status)
		}
	})
	t.Run("Anonymous", func(t *testing.T) {
		c := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
		if status, _ := getSearch(t, c, base, "acme", "q=contoso"); status != http.StatusSeeOther {
			t.Errorf("status %d, want 303 to the sign-in page", status)
		}
	})
	t.Run("EmptyShowsHint", func(t *testing.T) {
		before := st.calls.Load()
		status, body := getSearch(t, viewer, base, "acme", "q=")
		if status != http.StatusOK || !strings.Contains(body, `data-testid="search-hint"`) {
			t.Errorf("status %d, hint shown %v; want 200 with the hint", status, strings.Contains(body, "search-hint"))
		}
		if n := st.calls.Load() - before; n != 0 {
			t.Errorf("%d reads for an empty search, want 0", n)
		}
	})
	for name, q := range map[string]string{
		"TooLong":      "q=" + strings.Repeat("a", 201),
		"ControlChars": "q=" + url.QueryEscape("con\x01toso"),
		"NotUTF8":      "q=%ff%fe",
	} {
		t.Run("BadInput/"+name, func(t *testing.T) {
			before := st.calls.Load()
			if status, _ := getSearch(t, viewer, base, "acme", q); status != http.StatusBadRequest {
				t.Errorf("status %d, want 400", status)
			}
			if n := st.calls.Load() - before; n != 0 {
				t.Errorf("%d reads before the refusal, want 0", n)
			}
		})
	}
	t.Run("Viewer", func(t *testing.T) {
		status, body := getSearch(t, viewer, base, "acme", "q=Contoso")
		if status != http.StatusOK {
			t.Fatalf("status %d, want 200", status)
		}
		if got := st.lastQ.Load(); got != "Contoso" {
			t.Errorf("drafts searched for %q, want Contoso", got)
		}
		if n := strings.Count(body, `data-kind="draft"`); n != 8 {
			t.Errorf("%d draft hits, want the bound, 8", n)
		}
		for _, want := range []string{
			`href="/admin/workspaces/acme/onboarding?q=Contoso"`,                            // more than the bound: see all in the list
			`href="/admin/workspaces/acme/operations/7c1d2e3f-0000-4000-8000-000000000001"`, // a run links to its page
			`href="/admin/workspaces/acme/onboarding/` + st.drafts[1].ID + `"`,              // a draft to its wizard
			`&lt;script&gt;alert(&#39;<mark>contoso</mark>&#39;)&lt;/script&gt;`,            // escaped, then marked
		} {
			if !strings.Contains(body, want) {
				t.Errorf("page lacks %s", want)
			}
		}
		if strings.Contains(body, "<script>alert") {
			t.Error("a draft's name reached the page unescaped")
		}
		if strings.Contains(body, `data-testid="search-members"`) || strings.Contains(body, `data-kind="member"`) {
			t.Error("a viewer sees the members group; only those who may manage members may")
		}
		if strings.Contains(body, "search-all-runs") {
			t.Error("one run offers a link to more")
		}
	})
	t.Run("OwnerSeesMembers", func(t *testing.T) {
		status, body := getSearch(t, owner, base, "acme", "q=contoso")
		if status != http.StatusOK {
			t.Fatalf("status %d, want 200", status)
		}
		if n := strings.Count(body, `data-kind="member"`); n != 1 {
			t.Errorf("%d member hits, want 1 (Olive Contoso, by name)", n)
		}
		if !strings.Contains(body, `href="/admin/workspaces/acme/members?q=owner%40acme.test"`) {
			t.Error("the member hit does not link to the members page")
		}
		if !strings.Contains(body, `value="contoso"`) {
			t.Error("the top bar's field does not show the search")
		}
	})
}
