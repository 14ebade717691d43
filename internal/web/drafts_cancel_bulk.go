package web

import (
	"encoding/json"
	"errors"
	"net/http"
	"strconv"
	"strings"

	"github.com/tenantops/onboard/internal/fault"
	"github.com/tenantops/onboard/internal/onboarding"
	"github.com/tenantops/onboard/internal/presenter"
	"github.com/tenantops/onboard/views"
)

// maxBulk is the most drafts one "Cancel selected" takes: the largest page.
const maxBulk = 500

// handleDraftsCancelBulk is POST /admin/workspaces/{ws}/onboarding/cancellations ("Cancel
// selected", owners: onboarding.cancel; the route answers 403 to others). Each draft=<id>:<version>
// is cancelled through the versioned service, one transaction and one audit entry each, at
// the version the list showed: a draft changed since is left alone. The results, one per
// draft, are shown on the list the browser is sent back to.
func (s *Server) handleDraftsCancelBulk(w http.ResponseWriter, r *http.Request) {
	m, _ := memberFrom(r.Context())
	r.Body = http.MaxBytesReader(w, r.Body, maxFormBody)
	if err := r.ParseForm(); err != nil {
		s.error(w, r, badRequest("The form could not be read."))
		return
	}
	if r.PostForm.Get("confirm") != "yes" {
		s.error(w, r, badRequest("Cancelling needs confirmation: send confirm=yes."))
		return
	}
	picked := r.PostForm["draft"]
	if len(picked) == 0 || len(picked) > maxBulk {
		s.error(w, r, badRequest("Select between 1 and 500 drafts to cancel."))
		return
	}
	type target struct {
		id      string
		version int64
	}
	var targets []target
	seen := map[string]bool{}
	for _, v := range picked {
		id, ver, ok := strings.Cut(v, ":")
		n, err := strconv.ParseInt(ver, 10, 64)
		if !ok || !onboarding.IsGUID(id) || err != nil || n < 1 {
			s.error(w, r, badRequest("Each selected draft must be <id>:<version>, as the list sends it."))
			return
		}
		if id = strings.ToLower(id); !seen[id] {
			seen[id] = true
			targets = append(targets, target{id, n})
		}
	}
	results := make([]views.BulkResult, 0, len(targets))
	for _, t := range targets {
		res := views.BulkResult{DraftID: t.id, Outcome: "cancelled"}
		d, err := s.deps.Service.Cancel(r.Context(), m, t.id, t.version)
		if err != nil {
			if cur, gerr := s.deps.Service.Get(r.Context(), m, t.id); gerr == nil {
				d = cur
			}
		}
		res.Name = presenter.FirstNonEmpty(d.DisplayName, d.TenantID)
		var blocked *onboarding.BlockedError
		switch {
		case err == nil:
		case errors.Is(err, fault.ErrNotFound):
			res.Outcome = "not_found"
		case d.Lifecycle == onboarding.LifecycleCancelled:
			res.Outcome = "skipped_cancelled"
		case errors.As(err, &blocked) && blocked.Code == onboarding.ReasonDraftClosed:
			res.Outcome = "skipped_finished"
		case errors.Is(err, fault.ErrConflict):
			res.Outcome = "conflict"
		case errors.Is(err, fault.ErrForbidden):
			s.error(w, r, err)
			return
		default:
			s.log.ErrorContext(r.Context(), "bulk cancel", "draft", t.id, "err", err)
			res.Outcome = "failed"
		}
		results = append(results, res)
	}
	if b, err := json.Marshal(results); err == nil {
		s.sessions.Put(r.Context(), bulkKey, string(b))
	}
	back := "/admin/workspaces/" + m.Workspace + "/onboarding"
	if ref := r.PostForm.Get("back"); strings.HasPrefix(ref, back) && !strings.ContainsAny(ref, "\r\n") {
		back = ref
	}
	http.Redirect(w, r, back, http.StatusSeeOther)
}

// bulkKey holds the results of the last "Cancel selected" until the list shows them.
const bulkKey = "bulk"

// popBulkResults takes the results of a "Cancel selected", if any, out of the session.
func (s *Server) popBulkResults(r *http.Request) []views.BulkResult {
	v := s.sessions.PopString(r.Context(), bulkKey)
	if v == "" {
		return nil
	}
	var out []views.BulkResult
	if json.Unmarshal([]byte(v), &out) != nil {
		return nil
	}
	return out
}

// handleDraftsCancelBulkRedirect is GET …/onboarding/cancellations (the form's URL opened as
// a page): the drafts list.
func (s *Server) handleDraftsCancelBulkRedirect(w http.ResponseWriter, r *http.Request) {
	m, _ := memberFrom(r.Context())
	http.Redirect(w, r, "/admin/workspaces/"+m.Workspace+"/onboarding", http.StatusSeeOther)
}
