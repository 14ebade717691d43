package main

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/tenantops/onboard/internal/onboarding"
)

// waitDraft polls the draft through the API until cond holds, or fails after d. The workers
// run in the app's process; polling the API is the explicit readiness signal here.
func (s *apiSetup) waitDraft(t *testing.T, id string, d time.Duration, cond func(map[string]any) bool) map[string]any {
	t.Helper()
	deadline := time.Now().Add(d)
	for {
		r := s.api.do(t, s.owner, http.MethodGet, draftPath(id), "")
		wantStatus(t, "get draft", r, http.StatusOK)
		obj := r.object(t)
		if cond(obj) {
			return obj
		}
		if time.Now().After(deadline) {
			t.Fatalf("draft %s did not reach the expected state within %s; last: lifecycle=%v reason=%v blocking=%v",
				id, d, obj["lifecycle_state"], obj["reason_code"], obj["blocking_reason_code"])
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func notIn(states ...string) func(map[string]any) bool {
	return func(o map[string]any) bool {
		for _, s := range states {
			if o["lifecycle_state"] == s {
				return false
			}
		}
		return true
	}
}

// startVerified creates a draft for domain, attaches a connection and starts verification; it
// returns the draft id and the run id.
func (s *apiSetup) startVerification(t *testing.T, domain string) (string, string) {
	t.Helper()
	r := s.api.do(t, s.owner, http.MethodPost, "/workspaces/acme/onboarding/drafts",
		fmt.Sprintf(`{"tenant_id":%q,"display_name":"Scenario","primary_domain":%q}`, onboarding.NewGUID(), domain))
	wantStatus(t, "create", r, http.StatusCreated)
	id := r.object(t)["id"].(string)
	r = s.api.do(t, s.owner, http.MethodPatch, draftPath(id),
		`{"provider_connection":{"client_id":"11111111-2222-4333-8444-555555555555","client_secret":"scenario-secret-value"}}`, "If-Match", `"1"`)
	wantStatus(t, "connect", r, http.StatusOK)
	r = s.api.do(t, s.owner, http.MethodPost, draftPath(id)+"/verification", "", "If-Match", `"2"`)
	wantStatus(t, "start verification", r, http.StatusAccepted)
	run := r.object(t)["run"].(map[string]any)
	return id, run["id"].(string)
}

// TestScenarios drives every simulated provider scenario through the API and the real
// workers, and checks the lifecycle and reason codes the draft ends with.
func TestScenarios(t *testing.T) {
	t.Parallel()
	base := startApp(t, map[string]string{"SIM_SLOW_DURATION": "3s"})
	s := &apiSetup{api: newAPIClient(t, base), owner: client(t, base, "owner@acme.test")}
	for _, tc := range []struct {
		name, domain           string
		lifecycle, reason, blk any
		attempt                float64
	}{
		{"Healthy", "a.healthy.test", "ready_for_activation", "bootstrap_skipped", nil, 1},
		{"OtherDomain", "contoso.example.com", "ready_for_activation", "bootstrap_skipped", nil, 1},
		{"MissingPermissions", "b.missing-perms.test", "action_required", "verification_failed", "missing_permissions", 1},
		{"Flaky", "c.flaky.test", "ready_for_activation", "bootstrap_skipped", nil, 2},
		{"Slow", "d.slow.test", "ready_for_activation", "bootstrap_skipped", nil, 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			id, runID := s.startVerification(t, tc.domain)
			d := s.waitDraft(t, id, 60*time.Second, notIn("verifying"))
			if d["lifecycle_state"] != tc.lifecycle || d["reason_code"] != tc.reason || d["blocking_reason_code"] != tc.blk {
				t.Fatalf("draft = %v/%v/%v, want %v/%v/%v", d["lifecycle_state"], d["reason_code"], d["blocking_reason_code"], tc.lifecycle, tc.reason, tc.blk)
			}
			r := s.api.do(t, s.owner, http.MethodGet, "/workspaces/acme/operation-runs/"+runID, "")
			wantStatus(t, "get run", r, http.StatusOK)
			run := r.object(t)
			if run["status"] != "completed" || run["attempt"] != tc.attempt {
				t.Fatalf("run status=%v attempt=%v, want completed after %v attempt(s)", run["status"], run["attempt"], tc.attempt)
			}
		})
	}
	t.Run("PartialBootstrap", func(t *testing.T) { scenarioPartialBootstrap(t, s, base) })
	t.Run("HealthyToCompleted", func(t *testing.T) { scenarioHealthyToCompleted(t, s, base) })
	t.Run("SlowProgressPushedToRunPage", func(t *testing.T) { scenarioSlowProgressPushedToRunPage(t, s, base) })
}

func scenarioPartialBootstrap(t *testing.T, s *apiSetup, base string) {
	t.Parallel()
	id, _ := s.startVerification(t, "e.partial.test")
	d := s.waitDraft(t, id, 60*time.Second, notIn("verifying"))
	r := s.api.do(t, s.owner, http.MethodPost, draftPath(id)+"/bootstrap", `{"operations":["inventory_sync","policy_sync"]}`,
		"If-Match", fmt.Sprintf(`"%v"`, d["version"]))
	wantStatus(t, "start bootstrap", r, http.StatusAccepted)
	d = s.waitDraft(t, id, 60*time.Second, notIn("bootstrapping"))
	if d["lifecycle_state"] != "ready_for_activation" || d["reason_code"] != "bootstrap_partially_succeeded" || d["blocking_reason_code"] != "bootstrap_incomplete" {
		t.Fatalf("draft = %v/%v/%v, want ready_for_activation/bootstrap_partially_succeeded/bootstrap_incomplete",
			d["lifecycle_state"], d["reason_code"], d["blocking_reason_code"])
	}
	// Activation is blocked until an owner overrides with a reason.
	r = s.api.do(t, s.owner, http.MethodPost, draftPath(id)+"/activation", `{}`, "If-Match", fmt.Sprintf(`"%v"`, d["version"]))
	wantStatus(t, "activate blocked", r, http.StatusConflict)
	r = s.api.do(t, s.owner, http.MethodPost, draftPath(id)+"/activation", `{"override_reason":"Partial policy sync accepted by the customer"}`,
		"If-Match", fmt.Sprintf(`"%v"`, d["version"]))
	wantStatus(t, "activate with override", r, http.StatusOK)
	if got := r.object(t); got["lifecycle_state"] != "completed" || got["override_reason"] == nil {
		t.Fatalf("after override: %v with reason %v, want completed with the reason", got["lifecycle_state"], got["override_reason"])
	}
}

func scenarioHealthyToCompleted(t *testing.T, s *apiSetup, base string) {
	t.Parallel()
	id, _ := s.startVerification(t, "f.healthy.test")
	d := s.waitDraft(t, id, 60*time.Second, notIn("verifying"))
	r := s.api.do(t, s.owner, http.MethodPost, draftPath(id)+"/bootstrap", `{"operations":["inventory_sync","policy_sync","baseline_snapshot"]}`,
		"If-Match", fmt.Sprintf(`"%v"`, d["version"]))
	wantStatus(t, "start bootstrap", r, http.StatusAccepted)
	if runs := r.object(t)["runs"].([]any); len(runs) != 3 {
		t.Fatalf("bootstrap started %d runs, want 3", len(runs))
	}
	d = s.waitDraft(t, id, 60*time.Second, notIn("bootstrapping"))
	if d["lifecycle_state"] != "ready_for_activation" || d["reason_code"] != "ready_for_activation" {
		t.Fatalf("after bootstrap: %v/%v, want ready_for_activation", d["lifecycle_state"], d["reason_code"])
	}
	r = s.api.do(t, s.owner, http.MethodPost, draftPath(id)+"/activation", "", "If-Match", fmt.Sprintf(`"%v"`, d["version"]))
	wantStatus(t, "activate", r, http.StatusOK)
	if got := r.object(t); got["lifecycle_state"] != "completed" || got["completed_at"] == nil {
		t.Fatalf("after activation: %v, want completed", got["lifecycle_state"])
	}
}

func scenarioSlowProgressPushedToRunPage(t *testing.T, s *apiSetup, base string) {
	t.Parallel()
	id, runID := s.startVerification(t, "g.slow.test")
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	conn, _, err := websocket.Dial(ctx, "ws"+strings.TrimPrefix(base, "http")+"/live?draft="+id+"&rev=0&view=run:"+runID,
		&websocket.DialOptions{HTTPClient: s.owner, HTTPHeader: http.Header{"Origin": {base}}})
	if err != nil {
		t.Fatalf("dial /live: %v", err)
	}
	defer conn.CloseNow()
	conn.SetReadLimit(1 << 20)
	frames, progress := 0, map[string]bool{}
	for {
		_, msg, err := conn.Read(ctx)
		if err != nil {
			t.Fatalf("after %d frames: %v", frames, err)
		}
		frames++
		if !strings.Contains(string(msg), `data-live="run:`+runID+`"`) {
			t.Fatalf("frame is not the run panel of %s: %.200s", runID, msg)
		}
		if i := strings.Index(string(msg), `aria-valuenow="`); i >= 0 {
			progress[string(msg[i:min(len(msg), i+20)])] = true
		}
		if strings.Contains(string(msg), `data-outcome="succeeded"`) {
			break
		}
	}
	if len(progress) < 2 {
		t.Fatalf("saw %d distinct progress values in %d frames; want the run's progress pushed while it runs", len(progress), frames)
	}
}
