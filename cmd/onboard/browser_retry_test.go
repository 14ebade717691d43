package main

import (
	"context"
	"fmt"
	"net/http"
	"testing"
	"time"
)

// TestBrowserRetryAppearsLive: a run that fails while its page is open offers Retry without a
// reload to a reader who may start it, and still none to a viewer. The panel is pushed (one
// fragment for every cohort); the page then reads the action for its own reader.
func TestBrowserRetryAppearsLive(t *testing.T) {
	t.Parallel()
	// No workers: the run stays queued until the test ends it.
	base, conn := startAppOnDB(t, map[string]string{"WORKERS": "0"})
	api, operator := newAPIClient(t, base), client(t, base, "operator@acme.test")
	id := createDraftAPI(t, operator, base, newUUID(), "Live Retry", "live-retry.healthy.test")
	r := api.do(t, operator, http.MethodPatch, draftPath(id), fmt.Sprintf(`{"provider_connection":{"client_id":%q,"client_secret":"s3cret-live-retry"}}`, newUUID()), "If-Match", `"1"`)
	wantStatus(t, "attach connection", r, http.StatusOK)
	r = api.do(t, operator, http.MethodPost, draftPath(id)+"/verification", "", "If-Match", r.Header.Get("ETag"))
	wantStatus(t, "start verification", r, http.StatusAccepted)
	runID := r.object(t)["run"].(map[string]any)["id"].(string)
	runPage := "/admin/workspaces/acme/operations/" + runID

	browser := newBrowser(t)
	tabs := map[string]*page{}
	for _, email := range []string{"operator@acme.test", "viewer@acme.test"} {
		p := newSession(t, browser, base, email)
		p.open(runPage)
		p.liveState("live", 10*time.Second)
		if eval[bool](p, `!!document.querySelector('[data-testid=run-retry]')`) {
			p.fail("a queued run offers Retry")
		}
		p.markDocument()
		eval[bool](p, `(document.querySelector('[data-retry-area]').__old = true)`)
		tabs[email] = p
	}

	// The run ends as TestRunRetry ends it: its row changes, the trigger stamps a rev and
	// notifies, and the hub pushes the panel.
	if _, err := conn.Exec(context.Background(), `UPDATE operation_runs SET status = 'completed', outcome = 'failed',
		reason_code = 'provider_unreachable', started_at = now(), completed_at = now() WHERE id = $1`, runID); err != nil {
		t.Fatal(err)
	}
	for email, p := range tabs {
		// The action area is read again once the pushed panel shows the end.
		p.jsWithin(10*time.Second, `document.querySelector('[data-testid=run-status]')?.dataset.status === 'completed' &&
			document.querySelector('[data-retry-area]')?.__old !== true`)
		hasRetry := eval[bool](p, `!!document.querySelector('form [data-testid=run-retry]')`)
		if want := email == "operator@acme.test"; hasRetry != want {
			p.fail("%s: Retry offered = %v after the run failed, want %v", email, hasRetry, want)
		}
		p.stillSameDocument()
	}
}
