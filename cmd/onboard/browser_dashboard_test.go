package main

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// dashboardCounts are the dashboard's numbers counted straight from the database: drafts per
// lifecycle state, open drafts per checkpoint, runs of the last 24 hours by status or outcome.
func dashboardCounts(t *testing.T, conn *pgx.Conn) map[string]int {
	t.Helper()
	rows, err := conn.Query(context.Background(), `
		SELECT 'lifecycle-' || lifecycle_state, count(*) FROM managed_tenant_onboarding_sessions s
			JOIN workspaces w ON w.id = s.workspace_id WHERE w.slug = 'acme' GROUP BY 1
		UNION ALL
		SELECT 'checkpoint-' || current_checkpoint, count(*) FROM managed_tenant_onboarding_sessions s
			JOIN workspaces w ON w.id = s.workspace_id
			WHERE w.slug = 'acme' AND lifecycle_state NOT IN ('completed', 'cancelled') GROUP BY 1
		UNION ALL
		SELECT 'runs-' || coalesce(outcome, status), count(*) FROM operation_runs r
			JOIN workspaces w ON w.id = r.workspace_id
			WHERE w.slug = 'acme' AND r.created_at > now() - interval '24 hours' GROUP BY 1`)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]int{}
	for rows.Next() {
		var k string
		var n int
		if err := rows.Scan(&k, &n); err != nil {
			t.Fatal(err)
		}
		out[k] = n
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// TestBrowserDashboard: the workspace dashboard on the demo story's data. Signing in lands on
// it; every number equals the database's count and leads to a list filtered to the same
// rows; a draft created elsewhere and a person opening a draft show without a reload; every
// member may open it, another workspace's owner gets 404.
func TestBrowserDashboard(t *testing.T) {
	t.Parallel()
	base, conn := startAppOnDB(t, map[string]string{"DEMO_STORY": "true"})
	const dash = "/admin/workspaces/acme"

	t.Run("Access", func(t *testing.T) {
		for email, want := range map[string]int{"viewer@acme.test": 200, "operator@acme.test": 200, "owner@acme.test": 200, "owner@globex.test": 404} {
			if code, _, _ := get(t, client(t, base, email), base+dash, "text/html"); code != want {
				t.Errorf("%s: GET %s = %d, want %d", email, dash, code, want)
			}
		}
		if code, _, _ := get(t, client(t, base, "owner@acme.test"), base+dash+"/", "text/html"); code != 200 {
			t.Errorf("GET %s/ = %d, want 200", dash, code)
		}
		// The workspace topic, polled (the socket's fallback): members get the fragment,
		// another workspace's owner the 404 of a topic of nothing.
		var ws int64
		if err := conn.QueryRow(context.Background(), `SELECT id FROM workspaces WHERE slug = 'acme'`).Scan(&ws); err != nil {
			t.Fatal(err)
		}
		poll := fmt.Sprintf("%s/live/poll?draft=workspace:%d&rev=0", base, ws)
		if code, body, _ := get(t, client(t, base, "viewer@acme.test"), poll, "text/html"); code != 200 || !strings.Contains(body, `data-testid="dashboard"`) {
			t.Errorf("viewer's poll of the workspace topic = %d %.200s, want the dashboard", code, body)
		}
		if code, _, _ := get(t, client(t, base, "owner@globex.test"), poll, "text/html"); code != 404 {
			t.Errorf("globex owner's poll of acme's workspace topic = %d, want 404", code)
		}
	})

	browser := newBrowser(t)
	owner := newSession(t, browser, base, "owner@acme.test", sessionOptions{signInForm: true})
	// Signing in (no page to return to, one workspace) lands on the dashboard.
	if loc := eval[string](owner, `location.pathname`); loc != dash {
		owner.fail("after sign-in the owner is at %s, want %s", loc, dash)
	}
	owner.visible(`[data-testid=dashboard]`)
	owner.liveState("live", 10*time.Second)

	want := dashboardCounts(t, conn)
	if want["lifecycle-completed"] == 0 || want["lifecycle-action_required"] == 0 {
		t.Fatalf("the demo story is not loaded: %v", want)
	}
	count := func(p *page, testid string) int {
		t.Helper()
		return eval[int](p, fmt.Sprintf(`Number(document.querySelector('[data-testid=%q]')?.dataset.count ?? -1)`, testid))
	}
	checks := map[string]string{} // testid → the database's key
	for _, l := range []string{"draft", "verifying", "action_required", "bootstrapping", "ready_for_activation", "completed", "cancelled"} {
		checks["dash-lifecycle-"+l] = "lifecycle-" + l
	}
	for _, c := range []string{"identify", "connect_provider", "verify_access", "bootstrap", "activate"} {
		checks["dash-checkpoint-"+c] = "checkpoint-" + c
	}
	for _, k := range []string{"queued", "running", "succeeded", "partially_succeeded", "failed", "cancelled"} {
		checks["dash-runs-"+k] = "runs-" + k
	}
	checks["dash-action-blocked"], checks["dash-action-ready"], checks["dash-action-failed"] = "lifecycle-action_required", "lifecycle-ready_for_activation", "runs-failed"

	t.Run("NumbersAndLinks", func(t *testing.T) {
		for testid, key := range checks {
			if got := count(owner, testid); got != want[key] {
				owner.fail("%s = %d, want %d (the database's %s)", testid, got, want[key], key)
			}
		}
		// Each number's link opens a list showing that many rows.
		list := newSession(t, browser, base, "viewer@acme.test")
		for testid, key := range checks {
			href := eval[string](owner, fmt.Sprintf(`document.querySelector('[data-testid=%q]').getAttribute('href')`, testid))
			list.open(href)
			rows := `[data-testid=draft-row]`
			if strings.Contains(href, "/operations") {
				rows = `[data-testid=run-row]`
			}
			if got := eval[int](list, `document.querySelectorAll('`+rows+`').length`); got != want[key] {
				list.fail("%s leads to %s, which lists %d rows, want %d", testid, href, got, want[key])
			}
		}
	})

	t.Run("Live", func(t *testing.T) {
		owner.markDocument()
		before := count(owner, "dash-lifecycle-draft")
		operator := client(t, base, "operator@acme.test")
		createDraftAPI(t, operator, base, newUUID(), "Dashboard Live", "dashboard-live.healthy.test")
		owner.jsWithin(10*time.Second, fmt.Sprintf(`Number(document.querySelector('[data-testid=dash-lifecycle-draft]').dataset.count) === %d`, before+1))

		// Someone opens a draft: the dashboard says who is online, and where.
		if eval[bool](owner, `!!document.querySelector('[data-testid=dash-person][data-email="operator2@acme.test"]')`) {
			owner.fail("operator2 is online before opening anything")
		}
		other := newSession(t, browser, base, "operator2@acme.test")
		var id string
		if err := conn.QueryRow(context.Background(), `SELECT s.id::text FROM managed_tenant_onboarding_sessions s
			JOIN workspaces w ON w.id = s.workspace_id WHERE w.slug = 'acme' AND s.lifecycle_state = 'action_required' LIMIT 1`).Scan(&id); err != nil {
			t.Fatal(err)
		}
		other.open(wizardPath("acme", id))
		other.liveState("live", 10*time.Second)
		owner.jsWithin(10*time.Second, `!!document.querySelector('[data-testid=dash-person][data-email="operator2@acme.test"]')`)
		owner.stillSameDocument()
		owner.shot("dashboard-owner")
		// The viewer's dashboard too: same numbers, no "New onboarding".
		viewer := newSession(t, browser, base, "viewer@acme.test")
		viewer.open(dash)
		viewer.visible(`[data-testid=dashboard]`)
		if eval[bool](viewer, `!!document.querySelector('[data-testid=dashboard-new]')`) {
			viewer.fail("a viewer is offered New onboarding")
		}
		if got := count(viewer, "dash-lifecycle-draft"); got != before+1 {
			viewer.fail("viewer's draft count = %d, want %d", got, before+1)
		}
	})
}
