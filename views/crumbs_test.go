package views

import (
	"strings"
	"testing"

	"github.com/a-h/templ"
)

// TestListBreadcrumbs: every list page starts with a breadcrumb that leads back to the
// workspace's dashboard, as the wizard's does.
func TestListBreadcrumbs(t *testing.T) {
	t.Parallel()
	want := `<p class="breadcrumb" data-testid="breadcrumb"><a href="/admin/workspaces/acme" data-testid="breadcrumb-workspace">Acme MSP</a> <span aria-hidden="true">/</span> <span>`
	for name, c := range map[string]templ.Component{
		"Onboarding": DraftsPage(testNav, DraftsPageData{Workspace: "acme"}),
		"Operations": OperationsPage(testNav, OperationsData{Workspace: "acme"}),
		"Audit log":  AuditPage(testNav, AuditPageData{Workspace: "acme"}),
		"Members":    MembersPage(testNav, MembersPageData{Workspace: "acme"}, nil),
	} {
		if html := render(t, c); !strings.Contains(html, want+name+"</span></p>") {
			t.Errorf("%s: no breadcrumb to the dashboard (%s…)", name, want)
		}
	}
}
