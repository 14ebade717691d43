package livesource

import (
	"context"
	"log/slog"
	"sync"
	"time"

	"github.com/tenantops/onboard/internal/live"
	"github.com/tenantops/onboard/internal/onboarding"
	"github.com/tenantops/onboard/internal/postgres"
	"github.com/tenantops/onboard/internal/presence"
)

// Dashboards reads workspace dashboards for the page and the live topic alike (one query
// each, postgres DB.Dashboard) and adds who is online from the presence registry.
//
// Presence is not a row: its changes stamp no rev. So that a dashboard fragment still moves
// forward when someone opens or leaves a draft, PresenceChanged takes a rev from the same
// global sequence (nextval, no row written) for the workspaces concerned and schedules their
// topic; a dashboard's rev is the newer of its rows' and that one. The map is this process's:
// every process hears every presence change (its registry's OnChange) and takes its own.
type Dashboards struct {
	db  *postgres.DB
	now func() time.Time

	mu       sync.Mutex
	everyone func() []presence.Person
	notify   func(live.Event)
	log      *slog.Logger
	revs     map[int64]int64 // workspace → rev of its last presence change
}

// NewDashboards returns the dashboards of db; Attach adds presence and the hub once they
// exist.
func NewDashboards(db *postgres.DB) *Dashboards {
	return &Dashboards{db: db, now: time.Now, revs: map[int64]int64{}}
}

// Attach gives the dashboards the presence registry's view, the hub's Notify and a logger.
func (d *Dashboards) Attach(everyone func() []presence.Person, notify func(live.Event), log *slog.Logger) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.everyone, d.notify, d.log = everyone, notify, log
}

// Dashboard reads workspace workspaceID's dashboard: the one query, then the people present
// on its drafts.
func (d *Dashboards) Dashboard(ctx context.Context, workspaceID int64) (onboarding.Dashboard, error) {
	d.mu.Lock()
	everyone, presenceRev := d.everyone, d.revs[workspaceID]
	d.mu.Unlock()
	var people []presence.Person
	if everyone != nil {
		people = everyone()
	}
	ids := make([]string, 0, len(people))
	for _, p := range people {
		if len(ids) == 0 || ids[len(ids)-1] != p.DraftID { // Everyone sorts by draft
			ids = append(ids, p.DraftID)
		}
	}
	out, names, err := d.db.Dashboard(ctx, workspaceID, d.now().Add(-onboarding.DashboardWindow), ids)
	if err != nil {
		return out, err
	}
	out.Rev = max(out.Rev, presenceRev)
	for _, p := range people {
		if name, ok := names[p.DraftID]; ok {
			out.Present = append(out.Present, onboarding.DashboardPerson{Email: p.Email, DraftID: p.DraftID, Draft: name, Step: p.Step, Idle: p.Idle})
		}
	}
	return out, nil
}

// PresenceChanged is the presence registry's OnChange: one statement (the drafts'
// workspaces and a fresh rev), then a workspace event per workspace to the hub. A failure is
// logged; the next change or row event brings the dashboard up to date.
func (d *Dashboards) PresenceChanged(ctx context.Context, draftIDs []string) {
	ids := make([]string, 0, len(draftIDs))
	for _, id := range draftIDs {
		if onboarding.IsGUID(id) {
			ids = append(ids, id)
		}
	}
	if len(ids) == 0 {
		return
	}
	if err := d.presenceChanged(ctx, ids); err != nil && ctx.Err() == nil {
		d.mu.Lock()
		log := d.log
		d.mu.Unlock()
		if log != nil {
			log.Warn("dashboard: presence change", "err", err)
		}
	}
}

func (d *Dashboards) presenceChanged(ctx context.Context, ids []string) error {
	rev, workspaces, err := d.db.PresenceRev(ctx, ids)
	if err != nil {
		return err
	}
	d.mu.Lock()
	for _, w := range workspaces {
		d.revs[w] = max(d.revs[w], rev)
	}
	notify := d.notify
	d.mu.Unlock()
	if notify != nil {
		for _, w := range workspaces {
			notify(live.Event{Kind: live.KindWorkspace, WorkspaceID: w})
		}
	}
	return nil
}
