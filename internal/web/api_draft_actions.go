package web

import (
	"net/http"

	"github.com/go-chi/chi/v5"

	"github.com/tenantops/onboard/internal/access"
)

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
// handleAPIActivationRequestCreate is POST …/drafts/{id}/activation-request: ask the owners
// to activate (201 with the draft). Like the other actions it needs If-Match: the member asks
// about the draft they saw. The version does not move.
func (s *Server) handleAPIActivationRequestCreate(w http.ResponseWriter, r *http.Request) {
	m, _ := memberFrom(r.Context())
	id := chi.URLParam(r, "id")
	if err := emptyBody(w, r); err != nil {
		s.error(w, r, err)
		return
	}
	expected, err := s.expected(r, m, id, access.ActivationRequest)
	if err != nil {
		s.error(w, r, err)
		return
	}
	d, err := s.deps.Service.RequestActivation(r.Context(), m, id, expected)
	if err != nil {
		s.error(w, r, err)
		return
	}
	s.writeDraft(w, http.StatusCreated, d)
}

func emptyBody(w http.ResponseWriter, r *http.Request) error {
	if r.ContentLength == 0 {
		return nil
	}
	var v struct{}
	return decodeJSON(w, r, &v)
}
