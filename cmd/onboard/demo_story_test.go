package main

import (
	"net/http"
	"strings"
	"testing"
)

// TestDemoStory: a new demo database shows onboardings in every state, made through the real
// services, with runs and history; starting again adds nothing.
func TestDemoStory(t *testing.T) {
	t.Parallel()
	base := startApp(t, map[string]string{"DEMO_STORY": "true"})
	owner := client(t, base, "owner@acme.test")
	api := newAPIClient(t, base)
	drafts := api.do(t, owner, http.MethodGet, "/workspaces/acme/onboarding/drafts", "").list(t)
	got := map[string]string{}
	for _, d := range drafts {
		got[d["display_name"].(string)] = d["lifecycle_state"].(string)
	}
	want := map[string]string{
		"Northwind Traders": "draft", "Fabrikam": "action_required", "Contoso Ltd": "ready_for_activation",
		"Adatum": "completed", "Tailspin Toys": "completed", "Woodgrove Bank": "cancelled",
	}
	for name, state := range want {
		if got[name] != state {
			t.Errorf("demo draft %q is %q, want %q (all: %v)", name, got[name], state, got)
		}
	}
	if len(drafts) != len(want) {
		t.Errorf("demo has %d drafts, want %d", len(drafts), len(want))
	}
	runs := api.do(t, owner, http.MethodGet, "/workspaces/acme/operation-runs", "").list(t)
	if len(runs) < 6 {
		t.Errorf("demo has %d runs, want at least 6", len(runs))
	}
	for _, r := range runs {
		if r["status"] != "completed" {
			t.Errorf("demo run %v is %v, want completed", r["type"], r["status"])
		}
	}
	if code, body, _ := get(t, owner, base+"/admin/workspaces/acme/audit", "text/html"); code != 200 || !(strings.Contains(body, "Activation blockers overridden") && strings.Contains(body, "Onboarding cancelled") && strings.Contains(body, "Display name changed")) {
		t.Errorf("audit page after the demo = %d, lacks the story's history", code)
	}
}
