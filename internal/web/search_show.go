package web

import (
	"context"
	"net/http"
	"net/url"
	"strings"

	"github.com/tenantops/onboard/internal/access"
	"github.com/tenantops/onboard/internal/onboarding"
	"github.com/tenantops/onboard/internal/presenter"
	"github.com/tenantops/onboard/views"
)

// RunSearcher finds a workspace's runs for the global search (postgres.Store).
type RunSearcher interface {
	SearchRuns(ctx context.Context, workspaceID int64, q string, limit int) ([]onboarding.RunMatch, error)
}

// searchGroupSize bounds each group of the search page; the rest are in the filtered list.
const searchGroupSize = 8

// handleSearchShow is GET /admin/workspaces/{ws}/search?q= (capability onboarding.view):
// drafts by name, domain or tenant id, runs by id prefix, type, tenant or draft name, and
// for those who may manage members, members by name or email. An empty q shows a hint.
func (s *Server) handleSearchShow(w http.ResponseWriter, r *http.Request) {
	m, _ := memberFrom(r.Context())
	q := queryOf(r)
	text := q.text("q", maxListSearch, searchDetail)
	if err := q.Err(); err != nil {
		s.error(w, r, err)
		return
	}
	d, err := s.search(r.Context(), m, text)
	if err != nil {
		s.error(w, r, err)
		return
	}
	nav := s.navFor(r)
	nav.Search = text
	s.render(w, r, http.StatusOK, views.SearchPage(nav, d))
}

// search reads each group's first searchGroupSize hits (one more, to know there are others).
func (s *Server) search(ctx context.Context, m access.Member, q string) (views.SearchPageData, error) {
	d := views.SearchPageData{Workspace: m.Workspace, Q: q, ShowMembers: m.Can(access.MembersManage) && s.deps.Members != nil}
	if q == "" {
		return d, nil
	}
	base := "/admin/workspaces/" + m.Workspace
	list := "?" + url.Values{"q": {q}}.Encode()
	ds, err := s.deps.Drafts.DraftPage(ctx, m.WorkspaceID, onboarding.DraftFilter{Q: q, Sort: "updated", ListPage: onboarding.ListPage{Desc: true, Limit: searchGroupSize + 1}})
	if err != nil {
		return d, err
	}
	d.Drafts.Hits, d.Drafts.More = presenter.DraftRows(bounded(ds)), len(ds) > searchGroupSize
	d.Drafts.ListURL = base + "/onboarding" + list
	if s.deps.Search != nil {
		runs, err := s.deps.Search.SearchRuns(ctx, m.WorkspaceID, q, searchGroupSize+1)
		if err != nil {
			return d, err
		}
		for _, h := range bounded(runs) {
			d.Runs.Hits = append(d.Runs.Hits, views.SearchRun{Run: presenter.RunView(h.Run), DraftID: h.Run.DraftID,
				DraftName: h.DraftName, TenantID: h.Run.TenantID})
		}
		d.Runs.More, d.Runs.ListURL = len(runs) > searchGroupSize, base+"/operations"+list
	}
	if d.ShowMembers {
		ms, err := s.deps.Members.List(ctx, m)
		if err != nil {
			return d, err
		}
		lq := strings.ToLower(q)
		var hits []views.SearchMember
		for _, x := range ms {
			if strings.Contains(strings.ToLower(x.Name), lq) || strings.Contains(x.Email, lq) {
				hits = append(hits, views.SearchMember{UserID: x.UserID, Name: x.Name, Email: x.Email, Role: string(x.Role)})
			}
		}
		d.Members.Hits, d.Members.More = bounded(hits), len(hits) > searchGroupSize
		d.Members.ListURL = base + "/members" + list
	}
	return d, nil
}

// bounded is a group's first searchGroupSize hits.
func bounded[T any](hits []T) []T { return hits[:min(len(hits), searchGroupSize)] }
