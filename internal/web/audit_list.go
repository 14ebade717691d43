package web

import (
	"context"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"maps"
	"math"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/tenantops/onboard/internal/access"
	"github.com/tenantops/onboard/internal/account"
	"github.com/tenantops/onboard/internal/membership"
	"github.com/tenantops/onboard/internal/onboarding"
	"github.com/tenantops/onboard/internal/presenter"
	"github.com/tenantops/onboard/views"
)

// AuditLister reads the workspace audit log.
type AuditLister interface {
	AuditEntries(ctx context.Context, workspaceID int64, f onboarding.AuditFilter) ([]onboarding.AuditRecord, error)
}

// Audit log page sizes.
const (
	auditPageSize = 50
	auditCSVLimit = 10000 // rows in one CSV export
)

// auditActions are the actions the filter offers, as operators read them. Entries with other
// actions still show (their code in words).
var auditActions = []views.AuditAction{
	{Value: "onboarding.", Label: "Any onboarding action"},
	{Value: onboarding.ActionDraftCreated, Label: "Onboarding started"},
	{Value: onboarding.ActionDraftUpdated, Label: "Details saved"},
	{Value: onboarding.ActionVerificationStarted, Label: "Verification started"},
	{Value: onboarding.ActionBootstrapStarted, Label: "Bootstrap started"},
	{Value: onboarding.ActionActivated, Label: "Tenant activated"},
	{Value: onboarding.ActionActivationOverridden, Label: "Activation blockers overridden"},
	{Value: onboarding.ActionCancelled, Label: "Onboarding cancelled"},
	{Value: onboarding.ActionRunCompleted, Label: "Operation finished"},
	{Value: "workspace.member.", Label: "Any member change"},
	{Value: membership.ActionAdded, Label: "Member added"},
	{Value: membership.ActionRoleChanged, Label: "Member role changed"},
	{Value: membership.ActionRemoved, Label: "Member removed"},
	{Value: "security.", Label: "Any security event"},
	{Value: account.ActionSignedIn, Label: "Signed in"},
	{Value: account.ActionSignInFailed, Label: "Failed sign-in"},
	{Value: account.ActionSignedOut, Label: "Signed out"},
	{Value: account.ActionPasswordChanged, Label: "Password changed"},
	{Value: account.ActionPasswordRefused, Label: "Failed password change"},
	{Value: account.ActionSessionsEnded, Label: "Other sessions signed out"},
}

// auditLabel is an action in words.
func auditLabel(action string) string {
	for _, a := range auditActions {
		if a.Value == action {
			return a.Label
		}
	}
	words := strings.NewReplacer(".", " ", "_", " ").Replace(action)
	if words == "" {
		return "—"
	}
	return strings.ToUpper(words[:1]) + words[1:]
}

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
	f.Limit = auditPageSize + 1
	records, err := s.deps.Audit.AuditEntries(r.Context(), m.WorkspaceID, f)
	if err != nil {
		s.error(w, r, err)
		return
	}
	base := "/admin/workspaces/" + m.Workspace + "/audit"
	d := views.AuditPageData{Workspace: m.Workspace, Action: q.get("action"), Actor: q.get("actor"), Draft: q.get("draft"),
		From: q.get("from"), To: q.get("to"), Actions: auditActions}
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
	if f.Before > 0 {
		d.FirstURL = base + "?" + keep.Encode()
	}
	csvq := cloneValues(keep)
	csvq.Set("format", "csv")
	d.CSVURL = base + "?" + csvq.Encode()
	for _, e := range records {
		d.Entries = append(d.Entries, auditEntry(m.Workspace, e))
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

func cloneValues(v url.Values) url.Values {
	out := url.Values{}
	for k, vs := range v {
		out[k] = slices.Clone(vs)
	}
	return out
}

// auditFieldLabels names the fields audit entries record changes of.
var auditFieldLabels = map[string]string{
	onboarding.FieldDisplayName:         "Display name",
	onboarding.FieldPrimaryDomain:       "Primary domain",
	onboarding.FieldProviderConnection:  "Client ID",
	onboarding.FieldBootstrapOperations: "Operations",
	onboarding.FieldCurrentStep:         "Resume step",
	onboarding.FieldBootstrapSkipped:    "Bootstrap skipped",
	"role":                              "Role",
}

// auditDetailLabels names the other metadata keys shown, in this order.
var auditDetailLabels = []struct{ key, label string }{
	{"tenant_id", "Tenant ID"}, {"email", "Member"}, {"role", "Role"}, {"type", "Operation"},
	{"outcome", "Outcome"}, {"reason_code", "Reason"}, {"operations", "Operations"},
	{"override_reason", "Override reason"}, {"lifted_blockers", "Blockers accepted"},
	{"run_ids", "Runs started"}, {"cancelled_run_ids", "Queued runs cancelled"}, {"attempt", "Attempt"},
	{"retry_of", "Retry of run"}, {"sessions_ended", "Sessions signed out"}, {"address", "Address"}, {"user_agent", "Browser"},
}

// auditEntry turns a stored entry into what the page shows: the action in words, the tenant
// it is about with a link, field changes as old → new and other facts in words. The metadata
// is JSON written by the services; anything of an unexpected shape is left out.
func auditEntry(ws string, e onboarding.AuditRecord) views.AuditEntry {
	v := views.AuditEntry{ID: e.ID, Actor: e.Actor, Action: e.Action, Label: auditLabel(e.Action), At: e.At, Subject: e.Tenant}
	var meta map[string]any
	_ = json.Unmarshal([]byte(e.Metadata), &meta)
	switch {
	case e.SubjectType == onboarding.SubjectRun && e.DraftID != "":
		v.SubjectURL = views.RunURL(ws, e.SubjectID)
	case e.DraftID != "":
		v.SubjectURL = views.DraftURL(ws, e.DraftID)
	case e.SubjectType == membership.SubjectUser:
		v.Subject, _ = meta["email"].(string)
	}
	if v.Subject == "" && e.DraftID != "" {
		v.Subject = "Unnamed tenant"
	}
	if fields, ok := meta["fields"].(map[string]any); ok {
		for _, k := range slices.Sorted(maps.Keys(fields)) { // fields shadows on purpose: only a map is read
			d, ok := fields[k].(map[string]any)
			if !ok {
				continue
			}
			label := auditFieldLabels[k]
			if label == "" {
				label = k
			}
			old, _ := d["old"].(string)
			nw, _ := d["new"].(string)
			if k == onboarding.FieldBootstrapOperations {
				old, nw = operationList(old), operationList(nw)
			}
			v.Changes = append(v.Changes, views.AuditChange{Label: label, Old: old, New: nw})
		}
	}
	before, _ := meta["before"].(map[string]any)
	after, _ := meta["after"].(map[string]any)
	if b, a := presenter.Str(before, "lifecycle_state"), presenter.Str(after, "lifecycle_state"); a != "" && b != a {
		v.Changes = append(v.Changes, views.AuditChange{Label: "Status", Old: views.LifecycleBadge(b).Label, New: views.LifecycleBadge(a).Label})
	}
	fields, _ := meta["fields"].(map[string]any)
	for _, d := range auditDetailLabels {
		if _, isField := fields[d.key]; isField {
			continue
		}
		if val := detailText(d.key, meta[d.key]); val != "" {
			v.Details = append(v.Details, views.AuditDetail{Label: d.label, Value: val})
		}
	}
	return v
}

// detailText is one metadata value in words: strings and numbers as they are, lists counted
// or joined, reason codes and operations in their operator wording.
func detailText(key string, v any) string {
	switch x := v.(type) {
	case string:
		switch key {
		case "reason_code":
			return views.ReasonText(x)
		case "type":
			return views.RunTypeFullText(x)
		case "user_agent":
			return views.BrowserName(x)
		}
		return x
	case float64:
		return strconv.FormatFloat(x, 'f', -1, 64)
	case []any:
		if len(x) == 0 {
			return ""
		}
		if strings.HasSuffix(key, "run_ids") {
			return strconv.Itoa(len(x))
		}
		var parts []string
		for _, e := range x {
			if s, ok := e.(string); ok {
				switch key {
				case "lifted_blockers":
					s = strings.TrimSuffix(views.ReasonText(s), ".")
				case "operations":
					s = views.OperationName(s)
				}
				parts = append(parts, s)
			}
		}
		return strings.Join(parts, "; ")
	}
	return ""
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
		v := auditEntry(m.Workspace, e)
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
