package web

import (
	"context"
	"encoding/csv"
	"fmt"
	"math"
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
	// AuditDigest reads the log's live topic (its newest entry's id).
	AuditDigest(ctx context.Context, workspaceID int64) (onboarding.AuditDigest, error)
}

// Audit log page sizes.
const (
	auditPageSize = 50
	auditCSVLimit = 10000 // rows in one CSV export
)

// handleAuditList is GET /admin/workspaces/{ws}/audit (capability audit.view): filters
// action, actor, draft, from, to (dates, YYYY-MM-DD, in UTC); before continues a page;
// format=csv exports the filtered entries.
func (s *Server) handleAuditList(w http.ResponseWriter, r *http.Request) {
	m, _ := memberFrom(r.Context())
	q := queryOf(r)
	f, err := auditFilter(q)
	if err != nil {
		s.error(w, r, err)
		return
	}
	if q.get("format") == "csv" {
		s.auditCSV(w, r, m, f)
		return
	}
	// The topic first: an entry added meanwhile is then newer than the page's digest, and the
	// page's script fetches it (docs/live.md, Topics).
	digest, err := s.deps.Audit.AuditDigest(r.Context(), m.WorkspaceID)
	if err != nil {
		s.error(w, r, err)
		return
	}
	f.Limit = auditPageSize + 1
	records, err := s.deps.Audit.AuditEntries(r.Context(), m.WorkspaceID, f)
	if err != nil {
		s.error(w, r, err)
		return
	}
	base := "/admin/workspaces/" + m.Workspace + "/audit"
	d := views.AuditPageData{Workspace: m.Workspace, Action: q.get("action"), Actor: q.get("actor"), Draft: q.get("draft"),
		From: q.get("from"), To: q.get("to"), Actions: presenter.AuditActions}
	keep := url.Values{}
	for _, k := range []string{"action", "actor", "draft", "from", "to"} {
		if v := q.get(k); v != "" {
			keep.Set(k, v)
		}
	}
	if len(records) > auditPageSize {
		records = records[:auditPageSize]
		next := cloneValues(keep)
		next.Set("before", strconv.FormatInt(records[len(records)-1].ID, 10))
		d.NextURL = base + "?" + next.Encode()
	}
	d.Digest, d.NewestURL = presenter.AuditDigestView(digest), base+"?"+keep.Encode()
	if f.Before > 0 {
		d.FirstURL = d.NewestURL
	}
	csvq := cloneValues(keep)
	csvq.Set("format", "csv")
	d.CSVURL = base + "?" + csvq.Encode()
	for _, e := range records {
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

// auditFilter reads the audit filters; anything malformed is a 400.
func auditFilter(q *query) (onboarding.AuditFilter, error) {
	var f onboarding.AuditFilter
	f.Action = q.word("action", validAction, "action must be an audit action, e.g. onboarding.draft.updated.")
	f.Actor = q.text("actor", maxEmail, "actor must be an email address.")
	f.DraftID = q.guid("draft", "draft must be a draft id (a UUID).")
	f.From = q.date("from", "from must be a date (YYYY-MM-DD).")
	f.To = q.date("to", "to must be a date (YYYY-MM-DD).")
	if !f.To.IsZero() {
		f.To = f.To.AddDate(0, 0, 1) // "to" includes that day
	}
	f.Before, _ = q.number("before", 1, math.MaxInt64, "before must be an entry id.")
	return f, q.Err()
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

// auditCSV writes the filtered entries (newest first, at most auditCSVLimit) as CSV: when,
// who, action, what, about, changes and details in words.
func (s *Server) auditCSV(w http.ResponseWriter, r *http.Request, m access.Member, f onboarding.AuditFilter) {
	f.Limit = auditCSVLimit
	records, err := s.deps.Audit.AuditEntries(r.Context(), m.WorkspaceID, f)
	if err != nil {
		s.error(w, r, err)
		return
	}
	w.Header().Set("Content-Type", "text/csv; charset=utf-8")
	w.Header().Set("Content-Disposition", fmt.Sprintf(`attachment; filename="audit-%s-%s.csv"`, m.Workspace, time.Now().UTC().Format("20060102-150405")))
	w.Header().Set("Cache-Control", "no-store")
	cw := csv.NewWriter(w)
	_ = cw.Write([]string{"when", "who", "action", "what", "about", "changes", "details"})
	for _, e := range records {
		v := presenter.AuditEntry(m.Workspace, e)
		var changes, details []string
		for _, c := range v.Changes {
			changes = append(changes, c.Label+": "+c.Old+" → "+c.New)
		}
		for _, d := range v.Details {
			details = append(details, d.Label+": "+d.Value)
		}
		_ = cw.Write([]string{e.At.UTC().Format(time.RFC3339), csvSafe(e.Actor), e.Action, v.Label, csvSafe(v.Subject),
			csvSafe(strings.Join(changes, "; ")), csvSafe(strings.Join(details, "; "))})
	}
	cw.Flush()
}

// csvSafe keeps a spreadsheet from reading a user-supplied cell as a formula.
func csvSafe(s string) string {
	if s != "" && strings.ContainsAny(s[:1], "=+-@\t\r") {
		return "'" + s
	}
	return s
}
