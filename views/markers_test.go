package views

import (
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/a-h/templ"
)

// TestMembersMarksYou: the signed-in owner's own row says "(you)"; no other row does.
func TestMembersMarksYou(t *testing.T) {
	t.Parallel()
	html := render(t, MembersPage(testNav, MembersPageData{Workspace: "acme", Members: []MemberRow{
		{UserID: 1, Email: "owner@acme.test", Name: "Olivia Owner", Role: "owner", Since: t0, Self: true},
		{UserID: 2, Email: "operator@acme.test", Name: "Oscar Operator", Role: "operator", Since: t0},
	}}, nil))
	rows := regexp.MustCompile(`(?s)<tr data-testid="member-row".*?</tr>`).FindAllString(html, -1)
	if len(rows) != 2 {
		t.Fatalf("got %d member rows, want 2", len(rows))
	}
	if !strings.Contains(rows[0], "(you)") {
		t.Errorf("own row lacks (you):\n%s", rows[0])
	}
	if strings.Contains(rows[1], "(you)") {
		t.Errorf("another member's row says (you):\n%s", rows[1])
	}
}

// TestProfileCurrentSessionInUse: the session the page is read in is in use now, not "last
// used 2 minutes ago"; other sessions show when they were last used.
func TestProfileCurrentSessionInUse(t *testing.T) {
	t.Parallel()
	html := render(t, ProfilePage(testNav, ProfilePageData{Email: "owner@acme.test", Sessions: []SessionRow{
		{ID: 7, CreatedAt: t0, LastSeenAt: t0.Add(-2 * time.Minute), Current: true, UserAgent: "curl/8.5.0"},
		{ID: 5, CreatedAt: t0, LastSeenAt: t0.Add(-time.Hour), UserAgent: "curl/8.5.0"},
	}}, nil))
	rows := regexp.MustCompile(`(?s)<tr data-testid="session-row".*?</tr>`).FindAllString(html, -1)
	if len(rows) != 2 {
		t.Fatalf("got %d session rows, want 2", len(rows))
	}
	if !strings.Contains(rows[0], "In use now") || strings.Contains(rows[0], `data-format="relative"`) {
		t.Errorf("current session row does not say it is in use now:\n%s", rows[0])
	}
	if strings.Contains(rows[1], "In use now") || !strings.Contains(rows[1], `data-format="relative"`) {
		t.Errorf("other session row does not show when it was last used:\n%s", rows[1])
	}
}

// TestNewTabLinksSaySo: every link that opens a new tab says so, in every page and state the
// views render: an icon people see and words screen readers read.
func TestNewTabLinksSaySo(t *testing.T) {
	t.Parallel()
	verifyRun := *stepData(3).Verification
	bootRun := *stepData(4).Bootstrap[0].Run
	pages := map[string]templ.Component{
		"wizard step 3 (failed verification, assist)": WizardPage(testNav, WizardData{Checkpoint: cohort(stepData(3), "owner")}),
		"wizard step 4 (bootstrap runs)":              WizardPage(testNav, WizardData{Checkpoint: cohort(stepData(4), "operator")}),
		"wizard override":                             WizardPage(testNav, WizardData{Checkpoint: cohort(overridableActivate(), "owner")}),
		"wizard completed":                            WizardPage(testNav, WizardData{Checkpoint: cohort(completedWithOverride(), "viewer")}),
		"run page (verification)":                     RunPage(testNav, RunData{Panel: runPanelData(verifyRun)}),
		"run page (bootstrap)":                        RunPage(testNav, RunData{Panel: runPanelData(bootRun)}),
	}
	linkRE := regexp.MustCompile(`(?s)<a\s[^>]*>.*?</a>`)
	total := 0
	for name, c := range pages {
		html := render(t, c)
		for _, a := range linkRE.FindAllString(html, -1) {
			open := a[:strings.Index(a, ">")+1]
			if !strings.Contains(open, `target="_blank"`) {
				continue
			}
			total++
			if !strings.Contains(a, `<span class="visually-hidden">(opens in a new tab)</span>`) {
				t.Errorf("%s: a new-tab link without words for screen readers:\n%s", name, a)
			}
			if !regexp.MustCompile(`<span class="new-tab-icon" aria-hidden="true">`).MatchString(a) {
				t.Errorf("%s: a new-tab link without the visible icon:\n%s", name, a)
			}
		}
	}
	// The fixtures hold the full report link, remediation links and Run details links.
	if total < 5 {
		t.Errorf("found %d new-tab links in the fixtures, want at least 5: the test checks nothing", total)
	}
}

// TestSaveFailedPage: the failed-save page keeps the typed values, blanks secrets with a label
// saying to type them again, and carries no inline code.
func TestSaveFailedPage(t *testing.T) {
	t.Parallel()
	html := render(t, SaveFailedPage(testNav, SaveFailedData{Action: "/admin/workspaces/acme/onboarding/" + draftID + "/connection",
		Back: DraftURL("acme", draftID) + "?step=2", BackText: "Back to the draft", Fields: []RetryField{
			{Name: "version", Kind: RetryHidden, Values: []string{"7"}},
			{Name: "client_id", Label: "Client ID", Kind: RetryText, Values: []string{"abc-123"}},
			{Name: "client_secret", Label: "Client secret", Kind: RetrySecret, Required: true},
		}}))
	noInlineCode(t, html)
	for _, want := range []string{
		"The database could not be reached; nothing was saved.",
		`<input type="hidden" name="version" value="7">`,
		`name="client_id" type="text" value="abc-123"`,
		`<label for="retry-client_secret">Client secret (type it again)</label>`,
		`>Try again</button>`,
		`href="/admin/workspaces/acme/onboarding/` + draftID + `?step=2"`,
	} {
		if !strings.Contains(html, want) {
			t.Errorf("page lacks %s", want)
		}
	}
}
