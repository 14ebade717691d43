package presenter

import (
	"github.com/tenantops/onboard/internal/onboarding"
	"github.com/tenantops/onboard/internal/operation"
	"github.com/tenantops/onboard/views"
)

// DraftRows maps drafts to list rows, as the live rows read (a change without a user is the
// system's), so /admin and the drafts list name the same last change.
func DraftRows(ds []onboarding.Draft) []views.DraftRow {
	out := make([]views.DraftRow, 0, len(ds))
	for _, d := range ds {
		out = append(out, DraftRowView(onboarding.Snapshot{Draft: d}))
	}
	return out
}

// OperationRows maps a page of a workspace's runs to the operations list's rows, each named
// by its draft's tenant (tenants: draft id → label).
func OperationRows(runs []operation.Run, tenants map[string]string) []views.OperationRow {
	out := []views.OperationRow{}
	for _, run := range runs {
		rv := RunView(run)
		rv.Checks, rv.Items = nil, nil
		// Rows of runs still going are live (view oprow:<run id> of their draft); the rev
		// is the run's, a floor of the fragment's.
		out = append(out, views.OperationRow{Run: rv, DraftID: run.DraftID, Tenant: tenants[run.DraftID],
			Live: rv.Active() && run.DraftID != "", Rev: run.Rev})
	}
	return out
}
