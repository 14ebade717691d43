package web

import (
	"context"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/tenantops/onboard/internal/access"
	"github.com/tenantops/onboard/internal/onboarding"
	"github.com/tenantops/onboard/internal/presenter"
	"github.com/tenantops/onboard/views"
)

// AuditLister reads the workspace audit log.
type AuditLister interface {
	AuditEntries(ctx context.Context, workspaceID int64, f onboarding.AuditFilter) ([]onboarding.AuditRecord, error)
	AuditCount(ctx context.Context, workspaceID int64, f onboarding.AuditFilter) (int, error)
	// AuditDigest reads the log's live topic (its newest entry's id).
	AuditDigest(ctx context.Context, workspaceID int64) (onboarding.AuditDigest, error)
}

// auditList is the audit log's shape: by time (entry id), newest first; paged by keyset.
func auditList(ws string) listSpec {
	return listSpec{name: "audit", noun: "entries", path: "/admin/workspaces/" + ws + "/audit",
		sorts: map[string]sortSpec{"when": {desc: true, kind: cursorInt}}, defaultSort: "when", idKind: cursorInt,
		searchLabel: "Search the audit log", searchHint: "Action, person, tenant or value"}
}

// handleAuditList is GET /admin/workspaces/{ws}/audit (capability audit.view): filters
// action, actor, draft, from, to (dates, YYYY-MM-DD, in UTC) and q (action, actor, subject
// and changed values); sort=when with dir=; numbered and keyset pages (Newer / Older);
// format=csv exports the filtered entries.
func (s *Server) handleAuditList(w http.ResponseWriter, r *http.Request) {
	m, _ := memberFrom(r.Context())
	spec := auditList(m.Workspace)
	q := queryOf(r)
	p, f, err := auditFilter(q, r, spec)
	if err != nil {
		s.error(w, r, err)
		return
	}
	if q.get("format") == "csv" {
		s.auditCSV(w, r, m, f)
		return
	}
	s.rememberPerPage(w, spec, p)
	// The topic first: an entry added meanwhile is then newer than the page's digest, and the
	// page's script fetches it (docs/live.md, Topics).
	digest, err := s.deps.Audit.AuditDigest(r.Context(), m.WorkspaceID)
	if err != nil {
		s.error(w, r, err)
		return
	}
	total, err := s.deps.Audit.AuditCount(r.Context(), m.WorkspaceID, f)
	if err != nil {
		s.error(w, r, err)
		return
	}
	page, err := fetchPage(&p, func(lp onboarding.ListPage) ([]onboarding.AuditRecord, error) {
		f.ListPage = lp
		return s.deps.Audit.AuditEntries(r.Context(), m.WorkspaceID, f)
	})
	if err != nil {
		s.error(w, r, err)
		return
	}
	d := views.AuditPageData{Workspace: m.Workspace, Action: q.get("action"), Actor: q.get("actor"), Draft: q.get("draft"),
		From: q.get("from"), To: q.get("to"), Actions: presenter.AuditActions}
	keep := url.Values{}
	for _, k := range []string{"action", "actor", "draft", "from", "to"} {
		if v := q.get(k); v != "" {
			keep.Set(k, v)
		}
	}
	var first, last onboarding.Cursor
	if n := len(page.rows); n > 0 {
		first, last = auditCursor(page.rows[0]), auditCursor(page.rows[n-1])
	}
	d.List = listMeta(spec, p, keep, total, len(page.rows), page.hasPrev, page.hasNext, first, last)
	for _, c := range []struct{ key, label, value string }{{"action", "Action", actionLabel(d.Action)}, {"actor", "Who", d.Actor},
		{"draft", "Draft", auditDraftName(d.Draft, page.rows)}, {"from", "From", d.From}, {"to", "To", d.To}, {"q", "Search", quoted(d.List.Q)}} {
		if c.value != "" {
			addChip(&d.List, c.label+": "+c.value, c.key)
		}
	}
	// The newest page of these filters (search included, the default order: newest first) is
	// where live entries appear; any other page counts them in a notice.
	newest := cloneValues(keep)
	if d.List.Q != "" {
		newest.Set("q", d.List.Q)
	}
	d.Digest, d.NewestURL = presenter.AuditDigestView(digest), "/admin/workspaces/"+m.Workspace+"/audit?"+newest.Encode()
	if page.hasPrev || !p.Desc {
		d.FirstURL = d.NewestURL
	}
	d.List.CSVURL = csvURL(d.List)
	d.List.PrevLabel, d.List.NextLabel = "Newer", "Older"
	if !p.Desc {
		d.List.PrevLabel, d.List.NextLabel = "Older", "Newer"
	}
	for _, e := range page.rows {
		d.Entries = append(d.Entries, presenter.AuditEntry(m.Workspace, e))
	}
	if s.deps.Members != nil {
		if ms, err := s.deps.Members.List(r.Context(), m); err == nil {
			for _, x := range ms {
				d.Actors = append(d.Actors, x.Email)
			}
		}
	}
	d.Actors = append(d.Actors, "system")
	if d.Actor != "" && !slices.Contains(d.Actors, d.Actor) {
		d.Actors = append(d.Actors, d.Actor) // a former member's entries
	}
	nav := s.navFor(r)
	nav.Section = "audit"
	s.render(w, r, http.StatusOK, views.AuditPage(nav, d))
}

// auditDraftName names the draft filter by the tenant its entries are about (else its id).
func auditDraftName(id string, rows []onboarding.AuditRecord) string {
	for _, e := range rows {
		if e.DraftID == id && e.Tenant != "" {
			return e.Tenant
		}
	}
	return id
}

func quoted(s string) string {
	if s == "" {
		return ""
	}
	return "“" + s + "”"
}

func auditCursor(e onboarding.AuditRecord) onboarding.Cursor {
	id := strconv.FormatInt(e.ID, 10)
	return onboarding.Cursor{Value: id, ID: id}
}

// actionLabel is an action filter's words (a prefix or an unknown action as given).
func actionLabel(a string) string {
	for _, x := range presenter.AuditActions {
		if x.Value == a {
			return x.Label
		}
	}
	return a
}

// auditFilter reads the audit filters and the list's parameters; anything malformed is a 400.
func auditFilter(q *query, r *http.Request, spec listSpec) (listParams, onboarding.AuditFilter, error) {
	p := readList(q, r, spec)
	f := onboarding.AuditFilter{Q: p.Q, ListPage: onboarding.ListPage{Desc: p.Desc}}
	f.Action = q.word("action", validAction, "action must be an audit action, e.g. onboarding.draft.updated.")
	f.Actor = q.text("actor", maxEmail, "actor must be an email address.")
	f.DraftID = q.guid("draft", "draft must be a draft id (a UUID).")
	f.From = q.date("from", "from must be a date (YYYY-MM-DD).")
	f.To = q.date("to", "to must be a date (YYYY-MM-DD).")
	if !f.To.IsZero() {
		f.To = f.To.AddDate(0, 0, 1) // "to" includes that day
	}
	if v := q.get("format"); v != "" && v != "csv" {
		q.fail("format must be csv.")
	}
	if f.Q != "" {
		// The search matches actions by their words too ("cancelled" finds onboarding.cancelled).
		lq := strings.ToLower(f.Q)
		for _, a := range presenter.AuditActions {
			if strings.Contains(strings.ToLower(a.Label), lq) {
				f.Actions = append(f.Actions, a.Value)
			}
		}
	}
	return p, f, q.Err()
}

// maxEmail is the longest email address (RFC 5321's path limit less its brackets).
const maxEmail = 254

func validAction(a string) bool {
	if len(a) > 100 {
		return false
	}
	for _, r := range a {
		if !(r == '.' || r == '_' || 'a' <= r && r <= 'z' || '0' <= r && r <= '9') {
			return false
		}
	}
	return true
}

// auditCSV writes the filtered entries (in the list's order, at most csvLimit) as CSV: when,
// who, action, what, about, changes and details in words.
func (s *Server) auditCSV(w http.ResponseWriter, r *http.Request, m access.Member, f onboarding.AuditFilter) {
	f.ListPage = onboarding.ListPage{Desc: f.Desc, Limit: csvLimit}
	records, err := s.deps.Audit.AuditEntries(r.Context(), m.WorkspaceID, f)
	if err != nil {
		s.error(w, r, err)
		return
	}
	rows := make([][]string, 0, len(records))
	for _, e := range records {
		v := presenter.AuditEntry(m.Workspace, e)
		var changes, details []string
		for _, c := range v.Changes {
			changes = append(changes, c.Label+": "+c.Old+" → "+c.New)
		}
		for _, d := range v.Details {
			details = append(details, d.Label+": "+d.Value)
		}
		rows = append(rows, []string{e.At.UTC().Format(time.RFC3339), e.Actor, e.Action, v.Label, v.Subject,
			strings.Join(changes, "; "), strings.Join(details, "; ")})
	}
	writeCSV(w, "audit", m.Workspace, []string{"when", "who", "action", "what", "about", "changes", "details"}, rows)
}
