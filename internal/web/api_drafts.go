package web

import (
	"context"
	"fmt"
	"net/http"

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
	RequestActivation(ctx context.Context, m access.Member, id string, expected int64) (onboarding.Draft, error)
	Runs(ctx context.Context, m access.Member, draftID string) ([]operation.Run, error)
	Run(ctx context.Context, m access.Member, runID string) (operation.Run, error)
	RetryRun(ctx context.Context, m access.Member, runID string) (operation.Run, bool, error)
	WorkspaceRuns(ctx context.Context, m access.Member, f onboarding.RunFilter) ([]operation.Run, error)
	Changes(ctx context.Context, m access.Member, id string, since int64) ([]onboarding.Change, error)
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
