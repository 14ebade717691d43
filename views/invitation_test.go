package views

import (
	"strings"
	"testing"
)

// TestInvitationPageStates: the pending link shows the form; an expired, used, revoked or
// unknown link shows why, and no form.
func TestInvitationPageStates(t *testing.T) {
	t.Parallel()
	for state, want := range map[string]string{
		"pending":  `data-testid="invitation-form"`,
		"expired":  "expired on",
		"accepted": "used already",
		"revoked":  "was revoked",
		"unknown":  "not valid",
	} {
		html := render(t, InvitationPage(InvitationData{State: state, Action: "/admin/invitations/x", Email: "new@example.test",
			WorkspaceName: "Acme Corp", Role: "viewer", InvitedBy: "owner@acme.test", Expires: t0}))
		if !strings.Contains(html, want) {
			t.Errorf("%s: the page lacks %q", state, want)
		}
		if form := strings.Contains(html, "<form"); form != (state == "pending") {
			t.Errorf("%s: form shown = %v", state, form)
		}
	}
}

// TestMembersInviteLink: the link of an invitation that was not mailed is on the page that
// answers the invite, and only there; a mailed one never is.
func TestMembersInviteLink(t *testing.T) {
	t.Parallel()
	link := "http://127.0.0.1:8080/admin/invitations/AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"
	for name, d := range map[string]MembersPageData{
		"shown":  {Workspace: "acme", Invited: &InviteNotice{Email: "new@example.test", Role: "viewer", Link: link, Expires: t0}},
		"mailed": {Workspace: "acme", Invited: &InviteNotice{Email: "new@example.test", Role: "viewer", Expires: t0}, Mails: true},
		"later":  {Workspace: "acme", Invitations: []InvitationRow{{ID: 1, Email: "new@example.test", Role: "viewer", CreatedAt: t0, ExpiresAt: t0}}},
	} {
		html := render(t, MembersPage(testNav, d, nil))
		if got := strings.Contains(html, link); got != (name == "shown") {
			t.Errorf("%s: link on the page = %v", name, got)
		}
		if name == "later" && !strings.Contains(html, `data-testid="invitation-revoke"`) {
			t.Errorf("%s: no revoke button for the pending invitation", name)
		}
	}
}
