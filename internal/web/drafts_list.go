package web

import (
	"context"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/tenantops/onboard/internal/access"
	"github.com/tenantops/onboard/internal/onboarding"
	"github.com/tenantops/onboard/internal/presenter"
	"github.com/tenantops/onboard/views"
)

// draftsList is the drafts list's shape: sorted by last change (newest first), name, status
// or checkpoint; paged by keyset (drafts are added all the time).
func draftsList(ws string) listSpec {
	return listSpec{name: "drafts", noun: "drafts", path: "/admin/workspaces/" + ws + "/onboarding",
		sorts: map[string]sortSpec{"updated": {desc: true, kind: cursorTime}, "name": {kind: cursorText},
			"status": {kind: cursorText}, "checkpoint": {kind: cursorText}},
		defaultSort: "updated", idKind: cursorGUID,
		searchLabel: "Search drafts", searchHint: "Name, domain or tenant ID"}
}

// handleDraftsPage is GET /admin/workspaces/{ws}/onboarding: the drafts, with status tabs
// counted over the search (lifecycle=), search by name, domain or tenant id (q=), sorting
// (sort=updated|name|status|checkpoint, dir=), numbered and keyset pages, and format=csv.
func (s *Server) handleDraftsPage(w http.ResponseWriter, r *http.Request) {
	m, _ := memberFrom(r.Context())
	spec := draftsList(m.Workspace)
	q := queryOf(r)
	p, f, err := draftFilter(q, r, spec)
	if err != nil {
		s.error(w, r, err)
		return
	}
	if q.get("format") == "csv" {
		s.draftsCSV(w, r, m, f)
		return
	}
	s.rememberPerPage(w, spec, p)
	d, err := s.draftsPageData(r.Context(), m, spec, p, f)
	if err != nil {
		s.error(w, r, err)
		return
	}
	d.Toasts = s.popToasts(r)
	d.Bulk = s.popBulkResults(r)
	s.renderDrafts(w, r, http.StatusOK, d)
}

// draftFilter reads the list's parameters; anything malformed is a 400.
func draftFilter(q *query, r *http.Request, spec listSpec) (listParams, onboarding.DraftFilter, error) {
	p := readList(q, r, spec)
	f := onboarding.DraftFilter{Q: p.Q, Sort: p.Sort, ListPage: onboarding.ListPage{Desc: p.Desc}}
	f.Lifecycle = q.word("lifecycle", oneOf(onboarding.Lifecycles...),
		"lifecycle must be one of draft, verifying, action_required, bootstrapping, ready_for_activation, completed, cancelled.")
	f.Checkpoint = q.word("checkpoint", oneOf(onboarding.Checkpoints...),
		"checkpoint must be one of identify, connect_provider, verify_access, bootstrap, activate.")
	if v := q.get("format"); v != "" && v != "csv" {
		q.fail("format must be csv.")
	}
	return p, f, q.Err()
}

// draftCursor is a draft's position in the list sorted by sort.
func draftCursor(sort string, d onboarding.Draft) onboarding.Cursor {
	c := onboarding.Cursor{ID: d.ID}
	switch sort {
	case "name":
		c.Value = d.DisplayName
	case "status":
		c.Value = string(d.Lifecycle)
	case "checkpoint":
		c.Value = string(d.CurrentCheckpoint)
	default:
		c.Value = d.UpdatedAt.UTC().Format(time.RFC3339Nano)
	}
	return c
}

// draftsPageData reads one page of drafts, the counts per state that the search selects (the
// status tabs, their total following the search) and the workspace's drafts topic. The
// digest is read first: a change landing between the reads is then newer than the page's
// digest, so the tab hears of it (docs/live.md, Topics).
func (s *Server) draftsPageData(ctx context.Context, m access.Member, spec listSpec, p listParams, f onboarding.DraftFilter) (views.DraftsPageData, error) {
	d := views.DraftsPageData{Workspace: m.Workspace, Lifecycle: f.Lifecycle, Checkpoint: f.Checkpoint, Q: f.Q,
		CanCreate: m.Can(access.DraftCreate), CanCancel: m.Can(access.Cancel)}
	digest, err := s.deps.Drafts.DraftsDigest(ctx, m.WorkspaceID)
	if err != nil {
		return d, err
	}
	d.Digest = presenter.DraftsDigestView(digest)
	if d.Counts, err = s.deps.Drafts.DraftCounts(ctx, m.WorkspaceID, f); err != nil {
		return d, err
	}
	page, err := fetchPage(&p, func(lp onboarding.ListPage) ([]onboarding.Draft, error) {
		f.ListPage = lp
		return s.deps.Drafts.DraftPage(ctx, m.WorkspaceID, f)
	})
	if err != nil {
		return d, err
	}
	total := 0
	for state, n := range d.Counts {
		if f.Lifecycle == "" || f.Lifecycle == state {
			total += n
		}
	}
	keep := url.Values{}
	if f.Lifecycle != "" {
		keep.Set("lifecycle", f.Lifecycle)
	}
	if f.Checkpoint != "" {
		keep.Set("checkpoint", f.Checkpoint)
	}
	var first, last onboarding.Cursor
	if n := len(page.rows); n > 0 {
		first, last = draftCursor(p.Sort, page.rows[0]), draftCursor(p.Sort, page.rows[n-1])
	}
	d.List = listMeta(spec, p, keep, total, len(page.rows), page.hasPrev, page.hasNext, first, last)
	if f.Lifecycle != "" {
		addChip(&d.List, "Status: "+views.LifecycleBadge(f.Lifecycle).Label, "lifecycle")
	}
	if f.Checkpoint != "" {
		addChip(&d.List, "Open, at checkpoint: "+views.CheckpointBadge(f.Checkpoint).Label, "checkpoint")
	}
	if f.Q != "" {
		addChip(&d.List, "Search: "+quoted(f.Q), "q")
	}
	d.List.CSVURL = csvURL(d.List)
	d.Rows = presenter.DraftRows(page.rows)
	return d, nil
}

// draftsCSV exports the drafts the filters select, in the list's order, at most csvLimit.
func (s *Server) draftsCSV(w http.ResponseWriter, r *http.Request, m access.Member, f onboarding.DraftFilter) {
	f.ListPage = onboarding.ListPage{Desc: f.Desc, Limit: csvLimit}
	ds, err := s.deps.Drafts.DraftPage(r.Context(), m.WorkspaceID, f)
	if err != nil {
		s.error(w, r, err)
		return
	}
	rows := make([][]string, 0, len(ds))
	for _, d := range ds {
		rows = append(rows, []string{d.ID, d.TenantID, d.DisplayName, d.PrimaryDomain, string(d.Lifecycle), string(d.CurrentCheckpoint),
			string(d.ReasonCode), strconv.FormatInt(d.Version, 10), presenter.FirstNonEmpty(d.UpdatedBy, "system"),
			d.UpdatedAt.UTC().Format(time.RFC3339)})
	}
	writeCSV(w, "drafts", m.Workspace, []string{"id", "tenant_id", "display_name", "primary_domain", "lifecycle_state",
		"current_checkpoint", "reason_code", "version", "updated_by", "updated_at"}, rows)
}

func (s *Server) renderDrafts(w http.ResponseWriter, r *http.Request, status int, d views.DraftsPageData) {
	nav := s.navFor(r)
	nav.Section = "onboarding"
	s.render(w, r, status, views.DraftsPage(nav, d))
}
