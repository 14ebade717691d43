package views

import (
	"bytes"
	"context"
	"flag"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/a-h/templ"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata")

func render(t *testing.T, c templ.Component) string {
	t.Helper()
	var buf bytes.Buffer
	if err := c.Render(context.Background(), &buf); err != nil {
		t.Fatalf("render: %v", err)
	}
	return buf.String()
}

var attrRE = regexp.MustCompile(`([a-zA-Z0-9_:-]+)(?:="([^"]*)")?`)

// rootAttrs returns the tag name and attributes of the first element of html.
func rootAttrs(t *testing.T, html string) (string, map[string]string) {
	t.Helper()
	html = strings.TrimSpace(html)
	if !strings.HasPrefix(html, "<") {
		t.Fatalf("output does not start with an element: %.60q", html)
	}
	end := strings.Index(html, ">")
	tag := html[1:end]
	name, rest, _ := strings.Cut(tag, " ")
	attrs := map[string]string{}
	for _, m := range attrRE.FindAllStringSubmatch(rest, -1) {
		attrs[m[1]] = m[2]
	}
	return name, attrs
}

func wantAttrs(t *testing.T, got map[string]string, want map[string]string) {
	t.Helper()
	for k, v := range want {
		if got[k] != v {
			t.Errorf("root %s = %q, want %q", k, got[k], v)
		}
	}
}

func TestLiveRootAttributes(t *testing.T) {
	t.Parallel()
	updated := t0.Format(time.RFC3339)
	cases := []struct {
		name string
		c    templ.Component
		tag  string
		want map[string]string
	}{
		{"Checkpoint", Checkpoint(cohort(stepData(3), "viewer")), "section", map[string]string{
			"data-live": "checkpoint", "data-draft-id": draftID, "data-version": "7", "data-rev": "42",
			"data-lifecycle": "action_required", "data-updated-by": "operator@acme.test", "data-updated-at": updated,
			"data-poll-url": "/admin/workspaces/acme/onboarding/" + draftID + "/checkpoint",
		}},
		{"RunPanel", RunPanel(runPanelData(*stepData(3).Verification)), "section", map[string]string{
			"data-live": "run:9d4c1f7a-0000-4000-8000-000000000001", "data-draft-id": draftID, "data-version": "7", "data-rev": "42",
			"data-lifecycle": "action_required", "data-updated-by": "operator@acme.test", "data-updated-at": updated,
			"data-poll-url": "/admin/workspaces/acme/operations/9d4c1f7a-0000-4000-8000-000000000001?fragment=1",
		}},
		{"DraftRowView", DraftRowView(sampleRows()[0]), "tr", map[string]string{
			"data-live": "row", "data-draft-id": draftID, "data-version": "7", "data-rev": "42",
			"data-lifecycle": "action_required", "data-updated-by": "operator@acme.test", "data-updated-at": updated,
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			html := render(t, tc.c)
			tag, attrs := rootAttrs(t, html)
			if tag != tc.tag {
				t.Errorf("root element = <%s>, want <%s>", tag, tc.tag)
			}
			wantAttrs(t, attrs, tc.want)
			if again := render(t, tc.c); again != html {
				t.Error("two renders of the same data differ; fragments must be pure")
			}
		})
	}
}

// youRE finds second-person words: a fragment goes to a whole cohort, never to one person.
var youRE = regexp.MustCompile(`(?i)\byou(r|rs)?\b`)

func TestCheckpointCapabilities(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name    string
		d       CheckpointData
		role    string
		want    []string // data-testid values that must appear
		wantNot []string // and must not
	}{
		{"IdentifyOwner", stepData(1), "owner", []string{"panel-identify", "save-identify", "cancel-onboarding"}, nil},
		{"IdentifyViewer", stepData(1), "viewer", []string{"panel-identify", "identify-readonly"}, []string{"save-identify", "cancel-onboarding"}},
		{"ConnectionOperator", stepData(2), "operator", []string{"panel-connection", "save-connection"}, []string{"cancel-onboarding"}},
		{"VerifyOperator", stepData(3), "operator", []string{"panel-verify", "start-verification", "checks", "assist-panel", "full-report-link", "remediation-link"}, nil},
		{"VerifyViewer", stepData(3), "viewer", []string{"panel-verify", "checks", "assist-panel"}, []string{"start-verification"}},
		{"BootstrapOperator", stepData(4), "operator", []string{"panel-bootstrap", "start-bootstrap", "run-progress", "run-status"}, nil},
		{"BootstrapViewer", stepData(4), "viewer", []string{"panel-bootstrap", "run-progress"}, []string{"start-bootstrap"}},
		{"ActivateOwner", stepData(5), "owner", []string{"panel-activate", "readiness", "activate"}, []string{"override-submit"}},
		{"ActivateOperator", stepData(5), "operator", []string{"panel-activate", "activate-who", "request-activation"}, []string{"activate", "activation-requested"}},
		{"ActivateViewer", stepData(5), "viewer", []string{"panel-activate"}, []string{"activate", "request-activation"}},
		{"ActivationRequestedOperator", requestedActivation(), "operator", []string{"activation-requested", "activation-requested-by"}, []string{"request-activation"}},
		{"ActivationRequestedOwner", requestedActivation(), "owner", []string{"activation-requested", "activation-requested-by", "activate"}, []string{"request-activation"}},
		{"OverrideOperatorRequests", overridableActivate(), "operator", []string{"request-activation"}, []string{"override-submit"}},
		{"OverrideOwner", overridableActivate(), "owner", []string{"override-submit", "blocker"}, []string{"activate"}},
		{"OverrideOperator", overridableActivate(), "operator", []string{"override-who"}, []string{"override-submit", "activate"}},
		{"CompletedOwner", completedWithOverride(), "owner", []string{"panel-summary", "override-summary", "override-reason"}, []string{"cancel-onboarding", "activate"}},
		{"CancelledOwner", cancelled(), "owner", []string{"panel-summary", "cancelled-at"}, []string{"cancel-onboarding", "save-connection"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			html := render(t, Checkpoint(cohort(tc.d, tc.role)))
			for _, id := range append([]string{"stepper", "step-1", "step-5", "checkpoint-status"}, tc.want...) {
				if !strings.Contains(html, `data-testid="`+id+`"`) {
					t.Errorf("data-testid=%q missing", id)
				}
			}
			for _, id := range tc.wantNot {
				if strings.Contains(html, `data-testid="`+id+`"`) {
					t.Errorf("data-testid=%q present, want absent", id)
				}
			}
			if tc.role == "viewer" && strings.Contains(html, "<form") {
				t.Error("viewer fragment contains a form")
			}
			if (tc.d.Terminal()) && strings.Contains(html, "<form") {
				t.Error("read-only draft contains a form")
			}
			if m := youRE.FindString(html); m != "" {
				t.Errorf("fragment addresses a person (%q); it is shared by a cohort", m)
			}
		})
	}
}

func TestStepper(t *testing.T) {
	t.Parallel()
	html := render(t, Checkpoint(cohort(stepData(3), "operator")))
	t.Run("CurrentStep", func(t *testing.T) {
		t.Parallel()
		if !regexp.MustCompile(`class="step is-blocked is-current"[^>]*aria-current="step"[^>]*data-testid="step-3"`).MatchString(html) {
			t.Error("step 3 is not marked current and blocked with aria-current=step")
		}
	})
	t.Run("LockedSteps", func(t *testing.T) {
		t.Parallel()
		if !regexp.MustCompile(`class="step is-locked"[^>]*data-testid="step-4"`).MatchString(html) {
			t.Error("step 4 is not locked")
		}
		if n := strings.Count(html, `class="step-button" href=`); n != 2 {
			t.Errorf("step links = %d, want 2 (the reachable steps 1 and 2)", n)
		}
		if strings.Contains(html, `/step"`) {
			t.Error("the stepper posts the step: looking at a step must be a GET")
		}
	})
	// Every role may look at every reachable step: a viewer's stepper links them too.
	t.Run("ViewerBrowses", func(t *testing.T) {
		t.Parallel()
		viewer := render(t, Checkpoint(cohort(stepData(3), "viewer")))
		for _, n := range []string{"1", "2"} {
			if !strings.Contains(viewer, `?step=`+n+`"`) {
				t.Errorf("viewer's stepper has no link to step %s", n)
			}
		}
	})
}

func TestClientSecretNeverPrefilled(t *testing.T) {
	t.Parallel()
	d := cohort(connected(stepData(2)), "owner")
	d.Form = map[string]string{"client_id": "3f2504e0-4f89-11d3-9a0c-0305e82c3301", "client_secret": "s3cr3t-value"}
	d.Errors = map[string]string{"client_secret": "Enter the client secret."}
	html := render(t, WizardPage(testNav, WizardData{Checkpoint: d}))
	input := regexp.MustCompile(`<input[^>]*name="client_secret"[^>]*>`).FindString(html)
	if input == "" {
		t.Fatal("client_secret input missing")
	}
	if strings.Contains(input, "value=") {
		t.Errorf("client_secret input has a value: %s", input)
	}
	for _, want := range []string{`type="password"`, `autocomplete="off"`} {
		if !strings.Contains(input, want) {
			t.Errorf("client_secret input lacks %s: %s", want, input)
		}
	}
	if strings.Contains(html, "s3cr3t-value") {
		t.Error("the submitted secret appears in the page")
	}
}

func TestFormValues(t *testing.T) {
	t.Parallel()
	t.Run("Stored", func(t *testing.T) {
		t.Parallel()
		html := render(t, Checkpoint(cohort(stepData(1), "operator")))
		if !strings.Contains(html, `name="display_name" type="text" value="Contoso Ltd"`) {
			t.Error("display_name does not show the stored value")
		}
	})
	t.Run("ReapplyAndErrors", func(t *testing.T) {
		t.Parallel()
		d := cohort(stepData(1), "operator")
		d.Form = map[string]string{"display_name": "Contoso Europe", "primary_domain": ""}
		d.Errors = map[string]string{"primary_domain": "Enter the tenant's primary domain."}
		html := render(t, Checkpoint(d))
		if !strings.Contains(html, `value="Contoso Europe"`) {
			t.Error("display_name does not show the submitted value")
		}
		if !strings.Contains(html, `data-testid="error-primary_domain"`) || !strings.Contains(html, `aria-invalid="true"`) {
			t.Error("primary_domain error is not shown inline")
		}
	})
}

func TestDraftsPageCreateCapability(t *testing.T) {
	t.Parallel()
	for _, can := range []bool{true, false} {
		name := map[bool]string{true: "CanCreate", false: "Viewer"}[can]
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			html := render(t, DraftsPage(testNav, DraftsPageData{Workspace: "acme", Rows: sampleRows(), CanCreate: can}))
			if got := strings.Contains(html, `data-testid="new-onboarding"`); got != can {
				t.Errorf("New onboarding action shown = %v, want %v", got, can)
			}
		})
	}
}

// golden compares a whole page with testdata/<name>.golden; -update rewrites it.
func golden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join("testdata", name+".golden")
	if *update {
		if err := os.MkdirAll("testdata", 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("read golden file (run go test ./views -update): %v", err)
	}
	if got != string(want) {
		t.Errorf("%s differs from the golden file; inspect and run go test ./views -update\ngot:\n%s", path, got)
	}
}

func TestGoldenPages(t *testing.T) {
	t.Parallel()
	conflict := cohort(stepData(1), "operator")
	conflict.Form = map[string]string{"display_name": "Contoso Europe", "primary_domain": "contoso.eu"}
	verifyRun := *stepData(3).Verification
	bootRun := *stepData(4).Bootstrap[0].Run
	bootRun.Items = []ItemView{{Name: "LT-0001", Status: "succeeded", Message: "Windows 11 Enterprise laptop inventoried."},
		{Name: "LT-0007", Status: "failed", Message: "Device was deleted from Intune during the sync (HTTP 404)."}}
	pages := []struct {
		name string
		c    templ.Component
	}{
		{"wizard_identify_conflict", WizardPage(testNav, WizardData{Checkpoint: conflict,
			Conflict: &ConflictData{UpdatedBy: "owner@acme.test", UpdatedAt: t0, FormID: "form-identify", Fields: []ConflictField{
				{Label: "Display name", Theirs: "Contoso Ltd", Mine: "Contoso Europe"}, {Label: "Primary domain", Theirs: "contoso.missing-perms.test", Mine: "contoso.eu"}}}})},
		{"wizard_verify_failed", WizardPage(testNav, WizardData{Checkpoint: cohort(stepData(3), "owner"), Toasts: []Toast{{Tone: "info", Text: "Verification queued."}}})},
		{"wizard_bootstrap_running", WizardPage(testNav, WizardData{Checkpoint: cohort(stepData(4), "operator")})},
		{"wizard_override", WizardPage(testNav, WizardData{Checkpoint: cohort(overridableActivate(), "owner")})},
		{"wizard_completed", WizardPage(testNav, WizardData{Checkpoint: cohort(completedWithOverride(), "viewer")})},
		{"drafts", DraftsPage(testNav, DraftsPageData{Workspace: "acme", Rows: sampleRows(), CanCreate: true, CanCancel: true,
			Counts: map[string]int{"action_required": 1, "ready_for_activation": 1}, List: sampleList("drafts", "/admin/workspaces/acme/onboarding", 2)})},
		{"drafts_bulk_results", DraftsPage(testNav, DraftsPageData{Workspace: "acme", Rows: sampleRows(), CanCancel: true,
			Counts: map[string]int{"action_required": 1, "ready_for_activation": 1}, List: sampleList("drafts", "/admin/workspaces/acme/onboarding", 2),
			Bulk: []BulkResult{{DraftID: draftID, Name: "Contoso Ltd", Outcome: "cancelled"}, {DraftID: draftID, Name: "Fabrikam", Outcome: "conflict"},
				{DraftID: draftID, Name: "Northwind", Outcome: "skipped_cancelled"}}})},
		{"drafts_empty_filtered", DraftsPage(testNav, DraftsPageData{Workspace: "acme", Lifecycle: "completed", Counts: map[string]int{"draft": 3},
			List: sampleList("drafts", "/admin/workspaces/acme/onboarding", 0)})},
		{"operations", OperationsPage(testNav, OperationsData{Workspace: "acme", Filter: OperationsFilter{Status: "completed"},
			List:   sampleList("runs", "/admin/workspaces/acme/operations", 2),
			Drafts: []DraftOption{{ID: draftID, Label: "Contoso Ltd"}},
			Runs:   []OperationRow{{Run: verifyRun, DraftID: draftID, Tenant: "Contoso Ltd"}, {Run: bootRun, DraftID: draftID, Tenant: "Contoso Ltd"}}})},
		{"run_verify", RunPage(testNav, RunData{Panel: runPanelData(verifyRun),
			Retry: RetryView{Show: true, URL: "/admin/workspaces/acme/operations/" + verifyRun.ID + "/retry", Type: "verify_access"}})},
		{"run_retry_blocked", RunPage(testNav, RunData{Panel: runPanelData(verifyRun),
			Retry: RetryView{Show: true, Type: "verify_access", Reason: ReasonText("run_already_active")}})},
		{"profile", ProfilePage(testNav, ProfilePageData{Email: "owner@acme.test",
			Errors: map[string]string{"current_password": "is not your current password"},
			Sessions: []SessionRow{
				{ID: 7, CreatedAt: t0, LastSeenAt: t0, Current: true, Address: "192.0.2.10",
					UserAgent: "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0 Safari/537.36"},
				{ID: 5, CreatedAt: t0.Add(-time.Hour), LastSeenAt: t0.Add(-time.Minute), UserAgent: "curl/8.5.0"}}}, nil)},
		{"run_bootstrap", RunPage(testNav, RunData{Panel: runPanelData(bootRun)})},
		{"notifications", NotificationsPage(testNav, []NotificationView{
			{ID: 2, Workspace: "acme", DraftID: draftID, RunID: verifyRun.ID, Tenant: "Contoso Ltd", RunType: "verify_access", Outcome: "failed", ReasonCode: "missing_permissions", At: t0, Unread: true},
			{ID: 1, Workspace: "acme", DraftID: draftID, RunID: "r-inv", Tenant: "Contoso Ltd", RunType: "bootstrap.policy_sync", Outcome: "succeeded", At: t0.Add(-time.Hour)}})},
		{"notifications_empty", NotificationsPage(testNav, nil)},
	}
	for _, p := range pages {
		t.Run(p.name, func(t *testing.T) {
			t.Parallel()
			got := render(t, p.c)
			golden(t, p.name, got)
			noInlineCode(t, got)
		})
	}
}

// TestFinishedRowSaysHowItEnded: a completed or cancelled draft's row shows Completed /
// Cancelled where open drafts show their checkpoint.
func TestFinishedRowSaysHowItEnded(t *testing.T) {
	t.Parallel()
	for lifecycle, want := range map[string]string{"completed": "Completed", "cancelled": "Cancelled", "draft": "Activate"} {
		row := sampleRows()[0]
		row.Lifecycle, row.Checkpoint = lifecycle, "activate"
		html := render(t, DraftRowView(row))
		m := regexp.MustCompile(`data-testid="checkpoint-badge">([^<]*)<`).FindStringSubmatch(html)
		if m == nil || m[1] != want {
			t.Errorf("%s row: checkpoint column %v, want %q", lifecycle, m, want)
		}
	}
}

// TestAssistUnanswered: a verification that failed without a reason and without a failed
// check got no answer; the assist says to run it again and that it cannot be overridden.
func TestAssistUnanswered(t *testing.T) {
	t.Parallel()
	r := RunView{ID: "r1", Type: "verify_access", Status: "completed", Outcome: "failed"}
	if got := assistAdviceFor(r); !strings.Contains(got, "cannot be overridden") || !strings.Contains(got, "Run verification again") {
		t.Errorf("advice = %q", got)
	}
	r.Checks = []CheckView{{Name: "c", Status: "failed"}}
	if got := assistAdviceFor(r); strings.Contains(got, "without an answer") {
		t.Errorf("advice for a failed check = %q, want the checks' advice", got)
	}
}

// noInlineCode fails on markup the Content-Security-Policy (script-src 'self', style from
// 'self' only) would block: style attributes or elements, event-handler attributes, scripts
// without src.
func noInlineCode(t *testing.T, html string) {
	t.Helper()
	for _, m := range regexp.MustCompile(`(?i)<[a-z][^>]*\s(style|on[a-z]+)=|<style[\s>]`).FindAllString(html, -1) {
		t.Errorf("inline style or handler, blocked by the CSP: %.120s", m)
	}
	for _, m := range regexp.MustCompile(`(?i)<script[^>]*>`).FindAllString(html, -1) {
		if !strings.Contains(m, " src=") {
			t.Errorf("inline script, blocked by the CSP: %s", m)
		}
	}
}

// sampleList is a list's meta as internal/web builds it: page 2 of 3 of 137 rows, sorted by
// the default, with a search chip.
func sampleList(name, path string, rows int) ListMeta {
	m := ListMeta{Name: name, Noun: name, Path: path, Keep: url.Values{"q": {"con"}}, Q: "con", SearchLabel: "Search",
		SearchHint: "Name", Sort: "updated", Desc: true, Total: 137, Page: 2, Pages: 3, PerPage: 50, DefaultPerPage: 50,
		PerPageChoices: []int{25, 50, 100, 500}}
	if rows > 0 {
		m.FirstRow, m.LastRow = 51, 50+rows
		m.PrevURL, m.NextURL = path+"?q=con", path+"?q=con&page=3&after=x"
		m.PageLinks = []PageLink{{N: 1, URL: path + "?q=con"}, {N: 2, URL: path + "?q=con&page=2", Current: true}, {N: 3, URL: path + "?q=con&page=3"}}
	} else {
		m.Total = 0
	}
	m.Chips = []FilterChip{{Key: "q", Label: "Search: “con”", RemoveURL: path}}
	m.CSVURL = path + "?format=csv&q=con"
	return m
}
