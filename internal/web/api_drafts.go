package web

import (
	"context"
	"fmt"
	"net/http"
	"strconv"
	"strings"

	"github.com/go-chi/chi/v5"

	"github.com/tenantops/onboard/internal/access"
	"github.com/tenantops/onboard/internal/onboarding"
	"github.com/tenantops/onboard/internal/operation"
)

// DraftService is the onboarding service as the handlers use it.
type DraftService interface {
	List(ctx context.Context, m access.Member) ([]onboarding.Draft, error)
	Get(ctx context.Context, m access.Member, id string) (onboarding.Draft, error)
	Create(ctx context.Context, m access.Member, in onboarding.CreateInput) (onboarding.Draft, bool, error)
	Update(ctx context.Context, m access.Member, id string, expected int64, p onboarding.Patch) (onboarding.Draft, error)
	StartVerification(ctx context.Context, m access.Member, id string, expected int64) (onboarding.Draft, operation.Run, bool, error)
	StartBootstrap(ctx context.Context, m access.Member, id string, expected int64, ops []string) (onboarding.Draft, []operation.Run, error)
	SelectAndStartBootstrap(ctx context.Context, m access.Member, id string, expected int64, ops []string) (onboarding.Draft, []operation.Run, error)
	Activate(ctx context.Context, m access.Member, id string, expected int64, overrideReason string) (onboarding.Draft, error)
	Cancel(ctx context.Context, m access.Member, id string, expected int64) (onboarding.Draft, error)
	Runs(ctx context.Context, m access.Member, draftID string) ([]operation.Run, error)
	Run(ctx context.Context, m access.Member, runID string) (operation.Run, error)
	WorkspaceRuns(ctx context.Context, m access.Member, f onboarding.RunFilter) ([]operation.Run, error)
	Changes(ctx context.Context, m access.Member, id string, since int64) ([]onboarding.Change, error)
}

func etag(version int64) string { return `"` + strconv.FormatInt(version, 10) + `"` }

// ifMatch reads the expected version from If-Match ("3", W/"3" or 3). present is false
// when the header is absent.
func ifMatch(r *http.Request) (version int64, present bool, err error) {
	h := strings.TrimSpace(r.Header.Get("If-Match"))
	if h == "" {
		return 0, false, nil
	}
	v := strings.Trim(strings.TrimPrefix(h, "W/"), `"`)
	n, perr := strconv.ParseInt(v, 10, 64)
	if perr != nil || n < 1 {
		return 0, true, badRequest(`If-Match must be the draft version as an ETag, e.g. "3".`)
	}
	return n, true, nil
}

// expected resolves If-Match for a write on draft id needing capability c, keeping the
// precedence 404 → 403 → 428/412: without If-Match, existence and the capability are checked
// before the 428.
func (s *Server) expected(r *http.Request, m access.Member, id string, c access.Capability) (int64, error) {
	v, present, err := ifMatch(r)
	if err != nil {
		return 0, err
	}
	if present {
		return v, nil
	}
	if _, err := s.deps.Service.Get(r.Context(), m, id); err != nil {
		return 0, err
	}
	if !m.Can(c) {
		return 0, errForbidden
	}
	return 0, onboarding.ErrPreconditionRequired
}

func (s *Server) writeDraft(w http.ResponseWriter, status int, d onboarding.Draft) {
	w.Header().Set("ETag", etag(d.Version))
	writeJSON(w, status, toDraftJSON(d))
}

// handleAPIDraftsList is GET /api/v1/workspaces/{ws}/onboarding/drafts.
func (s *Server) handleAPIDraftsList(w http.ResponseWriter, r *http.Request) {
	m, _ := memberFrom(r.Context())
	ds, err := s.deps.Service.List(r.Context(), m)
	if err != nil {
		s.error(w, r, err)
		return
	}
	out := make([]draftJSON, 0, len(ds))
	for _, d := range ds {
		out = append(out, toDraftJSON(d))
	}
	writeJSON(w, http.StatusOK, out)
}

type createDraftRequest struct {
	TenantID      string `json:"tenant_id"`
	DisplayName   string `json:"display_name"`
	PrimaryDomain string `json:"primary_domain"`
}

// handleAPIDraftCreate is POST /api/v1/workspaces/{ws}/onboarding/drafts.
func (s *Server) handleAPIDraftCreate(w http.ResponseWriter, r *http.Request) {
	m, _ := memberFrom(r.Context())
	if !m.Can(access.DraftCreate) {
		s.error(w, r, errForbidden)
		return
	}
	var req createDraftRequest
	if err := decodeJSON(w, r, &req); err != nil {
		s.error(w, r, err)
		return
	}
	d, resumed, err := s.deps.Service.Create(r.Context(), m, onboarding.CreateInput{TenantID: req.TenantID, DisplayName: req.DisplayName, PrimaryDomain: req.PrimaryDomain})
	if err != nil {
		s.error(w, r, err)
		return
	}
	status := http.StatusCreated
	if resumed {
		status = http.StatusOK
	}
	w.Header().Set("Location", fmt.Sprintf("/api/v1/workspaces/%s/onboarding/drafts/%s", m.Workspace, d.ID))
	s.writeDraft(w, status, d)
}

// handleAPIDraftShow is GET /api/v1/workspaces/{ws}/onboarding/drafts/{id}.
func (s *Server) handleAPIDraftShow(w http.ResponseWriter, r *http.Request) {
	m, _ := memberFrom(r.Context())
	d, err := s.deps.Service.Get(r.Context(), m, chi.URLParam(r, "id"))
	if err != nil {
		s.error(w, r, err)
		return
	}
	tag := etag(d.Version)
	if inm := r.Header.Get("If-None-Match"); inm != "" && etagMatches(inm, tag) {
		w.Header().Set("ETag", tag)
		w.WriteHeader(http.StatusNotModified)
		return
	}
	s.writeDraft(w, http.StatusOK, d)
}

// etagMatches reports whether an If-None-Match list names tag (weak comparison).
func etagMatches(header, tag string) bool {
	for _, t := range strings.Split(header, ",") {
		t = strings.TrimPrefix(strings.TrimSpace(t), "W/")
		if t == tag || t == "*" {
			return true
		}
	}
	return false
}

type patchDraftRequest struct {
	DisplayName        *string `json:"display_name"`
	PrimaryDomain      *string `json:"primary_domain"`
	CurrentStep        *int    `json:"current_step"`
	ProviderConnection *struct {
		ClientID     string `json:"client_id"`
		ClientSecret string `json:"client_secret"`
	} `json:"provider_connection"`
	BootstrapOperations *[]string `json:"bootstrap_operations"`
}

// handleAPIDraftUpdate is PATCH /api/v1/workspaces/{ws}/onboarding/drafts/{id}.
func (s *Server) handleAPIDraftUpdate(w http.ResponseWriter, r *http.Request) {
	m, _ := memberFrom(r.Context())
	id := chi.URLParam(r, "id")
	var req patchDraftRequest
	if err := decodeJSON(w, r, &req); err != nil {
		s.error(w, r, err)
		return
	}
	expected, err := s.expected(r, m, id, access.DraftEdit)
	if err != nil {
		s.error(w, r, err)
		return
	}
	p := onboarding.Patch{DisplayName: req.DisplayName, PrimaryDomain: req.PrimaryDomain, CurrentStep: req.CurrentStep, BootstrapOperations: req.BootstrapOperations}
	if req.ProviderConnection != nil {
		p.Connection = &onboarding.ConnectionInput{ClientID: req.ProviderConnection.ClientID, ClientSecret: req.ProviderConnection.ClientSecret}
	}
	d, err := s.deps.Service.Update(r.Context(), m, id, expected, p)
	if err != nil {
		s.error(w, r, err)
		return
	}
	s.writeDraft(w, http.StatusOK, d)
}

// handleAPIVerificationCreate is POST …/drafts/{id}/verification.
func (s *Server) handleAPIVerificationCreate(w http.ResponseWriter, r *http.Request) {
	m, _ := memberFrom(r.Context())
	id := chi.URLParam(r, "id")
	if err := emptyBody(w, r); err != nil {
		s.error(w, r, err)
		return
	}
	expected, err := s.expected(r, m, id, access.VerificationStart)
	if err != nil {
		s.error(w, r, err)
		return
	}
	d, run, created, err := s.deps.Service.StartVerification(r.Context(), m, id, expected)
	if err != nil {
		s.error(w, r, err)
		return
	}
	status := http.StatusAccepted
	if !created {
		status = http.StatusOK
	}
	w.Header().Set("ETag", etag(d.Version))
	writeJSON(w, status, map[string]any{"run": toRunJSON(run), "draft": toDraftJSON(d)})
}

type bootstrapRequest struct {
	Operations []string `json:"operations"`
}

// handleAPIBootstrapCreate is POST …/drafts/{id}/bootstrap.
func (s *Server) handleAPIBootstrapCreate(w http.ResponseWriter, r *http.Request) {
	m, _ := memberFrom(r.Context())
	id := chi.URLParam(r, "id")
	var req bootstrapRequest
	if err := decodeJSON(w, r, &req); err != nil {
		s.error(w, r, err)
		return
	}
	expected, err := s.expected(r, m, id, access.BootstrapStart)
	if err != nil {
		s.error(w, r, err)
		return
	}
	d, runs, err := s.deps.Service.StartBootstrap(r.Context(), m, id, expected, req.Operations)
	if err != nil {
		s.error(w, r, err)
		return
	}
	w.Header().Set("ETag", etag(d.Version))
	writeJSON(w, http.StatusAccepted, map[string]any{"runs": toRunsJSON(runs), "draft": toDraftJSON(d)})
}

type activationRequest struct {
	OverrideReason *string `json:"override_reason"`
}

// handleAPIActivationCreate is POST …/drafts/{id}/activation.
func (s *Server) handleAPIActivationCreate(w http.ResponseWriter, r *http.Request) {
	m, _ := memberFrom(r.Context())
	id := chi.URLParam(r, "id")
	var req activationRequest
	if r.ContentLength != 0 {
		if err := decodeJSON(w, r, &req); err != nil {
			s.error(w, r, err)
			return
		}
	}
	expected, err := s.expected(r, m, id, access.Activate)
	if err != nil {
		s.error(w, r, err)
		return
	}
	var reason string
	if req.OverrideReason != nil {
		// An override asked for with an empty reason is a blank reason (422 from the service,
		// after its 404/403/412 checks), not a plain activation.
		reason = *req.OverrideReason
		if reason == "" {
			reason = " "
		}
	}
	d, err := s.deps.Service.Activate(r.Context(), m, id, expected, reason)
	if err != nil {
		s.error(w, r, err)
		return
	}
	s.writeDraft(w, http.StatusOK, d)
}

// handleAPICancellationCreate is POST …/drafts/{id}/cancellation.
func (s *Server) handleAPICancellationCreate(w http.ResponseWriter, r *http.Request) {
	m, _ := memberFrom(r.Context())
	id := chi.URLParam(r, "id")
	if err := emptyBody(w, r); err != nil {
		s.error(w, r, err)
		return
	}
	expected, err := s.expected(r, m, id, access.Cancel)
	if err != nil {
		s.error(w, r, err)
		return
	}
	d, err := s.deps.Service.Cancel(r.Context(), m, id, expected)
	if err != nil {
		s.error(w, r, err)
		return
	}
	s.writeDraft(w, http.StatusOK, d)
}

// emptyBody accepts no body or an empty JSON object, so a body is never silently ignored.
func emptyBody(w http.ResponseWriter, r *http.Request) error {
	if r.ContentLength == 0 {
		return nil
	}
	var v struct{}
	return decodeJSON(w, r, &v)
}

// handleAPIRunsList is GET /api/v1/workspaces/{ws}/operation-runs?draft=&type=&status=.
func (s *Server) handleAPIRunsList(w http.ResponseWriter, r *http.Request) {
	m, _ := memberFrom(r.Context())
	q := r.URL.Query()
	f := onboarding.RunFilter{DraftID: q.Get("draft"), Type: q.Get("type"), Status: q.Get("status"), Limit: 200}
	if f.Status != "" {
		if _, err := operation.ParseStatus(f.Status); err != nil {
			s.error(w, r, badRequest("status must be queued, running or completed."))
			return
		}
	}
	if f.Type != "" {
		if _, err := operation.ParseType(f.Type); err != nil {
			s.error(w, r, badRequest("type must be verify_access or bootstrap.<operation>."))
			return
		}
	}
	if f.DraftID != "" {
		// The draft must be one of this workspace: an id of another workspace (or of nothing)
		// is 404, as everywhere, not an empty list.
		if _, err := s.deps.Service.Get(r.Context(), m, f.DraftID); err != nil {
			s.error(w, r, err)
			return
		}
	}
	runs, err := s.deps.Service.WorkspaceRuns(r.Context(), m, f)
	if err != nil {
		s.error(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, toRunsJSON(runs))
}

// handleAPIRunShow is GET /api/v1/workspaces/{ws}/operation-runs/{run_id}.
func (s *Server) handleAPIRunShow(w http.ResponseWriter, r *http.Request) {
	m, _ := memberFrom(r.Context())
	run, err := s.deps.Service.Run(r.Context(), m, chi.URLParam(r, "run_id"))
	if err != nil {
		s.error(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, toRunJSON(run))
}
