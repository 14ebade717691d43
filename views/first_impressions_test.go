package views

import (
	"regexp"
	"strings"
	"testing"
)

// Issue M: what a new user saw contradict itself, each pinned on the rendered HTML. The page
// crawl (cmd/onboard TestPageCrawl) checks the same pages in a real browser.

// A page without a user's topic (an error page before sign-in, or with the database down)
// has no live bell: a bell with an empty topic made /live answer 400 and the page say "Live
// updates are not available".
func TestShellWithoutBellTopicIsNotLive(t *testing.T) {
	t.Parallel()
	nav := testNav
	nav.Bell = BellData{}
	html := render(t, ErrorPage(nav, ErrorData{Status: 503, Title: "Service unavailable", Detail: "Try again."}))
	if strings.Contains(html, `data-live="bell"`) {
		t.Error("an error page without a bell topic renders a live bell")
	}
	html = render(t, ErrorPage(testNav, ErrorData{Status: 404, Title: "Not found"}))
	if !strings.Contains(html, `data-live="bell" data-draft-id="user:1"`) {
		t.Error("a signed-in page lost its live bell")
	}
}

// A running verification reports its checks when it ends; while it runs the page must not
// say "Running: 6 of 10 checks done." above "No checks reported yet."
func TestRunningRunDoesNotSayNoChecks(t *testing.T) {
	t.Parallel()
	d := stepData(3)
	d.Lifecycle, d.ReasonCode, d.BlockingReasonCode = "verifying", "verification_in_progress", ""
	d.Verification = &RunView{ID: "9d4c1f7a-0000-4000-8000-00000000000a", Type: "verify_access", Status: "running",
		Counts: RunCounts{Total: 10, Succeeded: 6}, Initiator: "operator@acme.test", CreatedAt: t0, StartedAt: t0}
	html := render(t, Checkpoint(cohort(d, "operator")))
	if !strings.Contains(html, "Running: 6 of 10 checks done.") {
		t.Fatalf("the running verification's progress is missing:\n%s", html)
	}
	if strings.Contains(html, "No checks reported yet") || strings.Contains(html, "No checks were reported") {
		t.Error("a running verification with 6 checks done says that no checks were reported")
	}
	if !strings.Contains(html, "listed with its result when the run finishes") {
		t.Error("a running verification does not say when its checks are listed")
	}
	bootstrap := stepData(4)
	html = render(t, Checkpoint(cohort(bootstrap, "operator")))
	if strings.Contains(html, "No items reported yet") {
		t.Error("a running bootstrap says no items were reported")
	}
}

var stepLinkRE = regexp.MustCompile(`class="step-button"`)

// A completed or cancelled onboarding shows its summary whatever ?step= asks for: its steps
// are no links (each led to the same summary) and none is marked as the one shown.
func TestTerminalStepperHasNoLinks(t *testing.T) {
	t.Parallel()
	for name, d := range map[string]CheckpointData{"completed": completedWithOverride(), "cancelled": cancelled()} {
		d.Step = 3
		html := render(t, Checkpoint(cohort(d, "owner")))
		if n := len(stepLinkRE.FindAllString(html, -1)); n != 0 {
			t.Errorf("%s: %d steps are links to the same summary", name, n)
		}
		if strings.Contains(html, `aria-current="step"`) {
			t.Errorf("%s: a step is marked current although the summary is shown", name)
		}
	}
	d := stepData(5)
	d.Step = 3
	if html := render(t, Checkpoint(cohort(d, "owner"))); !strings.Contains(html, `aria-current="step"`) || len(stepLinkRE.FindAllString(html, -1)) != 4 {
		t.Error("an open onboarding lost its step links or its current step")
	}
}

// Activating asks first, like every other action that cannot be undone.
func TestActivationAsksFirst(t *testing.T) {
	t.Parallel()
	html := render(t, Checkpoint(cohort(stepData(5), "owner")))
	form := html[strings.Index(html, `id="form-activation"`):]
	form = form[:strings.Index(form, ">")]
	for _, attr := range []string{`data-confirm-title="Activate Contoso Ltd?"`, `data-confirm="Contoso Ltd (contoso.missing-perms.test) becomes active`, `data-confirm-ok="Activate tenant"`} {
		if !strings.Contains(form, attr) {
			t.Errorf("the activation form lacks %s: %s", attr, form)
		}
	}
}

// Every table cell names its column, so that tables stack on a phone (data-label).
func TestTableCellsNameTheirColumn(t *testing.T) {
	t.Parallel()
	cellRE := regexp.MustCompile(`<(td|th)\b[^>]*>`)
	pages := map[string]string{
		"drafts":    render(t, Workspaces(testNav, []WorkspaceSummary{{Slug: "acme", Name: "Acme MSP", Role: "owner", Drafts: sampleRows()}})),
		"bootstrap": render(t, Checkpoint(cohort(stepData(4), "owner"))),
	}
	for name, html := range pages {
		body := html
		if i := strings.Index(body, "<tbody"); i >= 0 {
			body = body[i:]
		}
		cells := 0
		for _, c := range cellRE.FindAllString(body, -1) {
			if strings.Contains(c, `scope="col"`) {
				continue
			}
			cells++
			if !strings.Contains(c, "data-label=") {
				t.Errorf("%s: a cell names no column: %s", name, c)
			}
		}
		if cells == 0 {
			t.Errorf("%s: no table cells rendered", name)
		}
	}
}
