package web

import (
	"net/http"

	"github.com/go-chi/chi/v5"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/tenantops/onboard/internal/access"
)

// Handler returns the application: its routes behind the security headers.
func (s *Server) Handler() http.Handler {
	return secureHeaders(s.Routes(), s.strictTransport())
}

// crossOrigin refuses cross-origin browser writes everywhere; requests without Origin or
// Sec-Fetch-Site (scripts, curl) pass, as the contract allows. It runs inside observe, so a
// refusal is logged and counted like any other request, and answers with the product's
// problem document or error page.
func (s *Server) crossOrigin(next http.Handler) http.Handler {
	cop := http.NewCrossOriginProtection()
	if s.cfg.PublicOrigin != "" {
		_ = cop.AddTrustedOrigin(s.cfg.PublicOrigin) // a checked origin: cannot fail
	}
	cop.SetDenyHandler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.log.InfoContext(r.Context(), "cross-origin request refused", "method", r.Method, "path", r.URL.Path)
		s.error(w, r, errCrossOrigin)
	}))
	return cop.Handler(next)
}

// Routes returns every route of the application, in one place. Tests walk it (chi.Walk) so
// that no route escapes the authorization matrix.
func (s *Server) Routes() chi.Router {
	r := chi.NewRouter()
	r.Use(s.observe, s.crossOrigin)

	r.Get("/healthz", s.handleHealthz)
	r.Get("/readyz", s.handleReadyz)
	r.Get("/api/v1/openapi.yaml", s.handleOpenAPI)
	assets := http.StripPrefix("/static", s.staticFiles())
	r.Get("/static/*", assets.ServeHTTP)
	r.Head("/static/*", assets.ServeHTTP)
	r.Get("/favicon.ico", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "/static/img/favicon.svg", http.StatusMovedPermanently)
	})

	// The live endpoint reads the session without writing it back, through the process's
	// cache (live_sessions.go): every tab reconnects at once after a deploy.
	r.With(s.liveAuthenticate).Get("/live", s.live.ServeSocket)
	r.With(s.liveAuthenticate).Get("/live/poll", s.live.ServePoll)

	r.Group(func(r chi.Router) {
		r.Use(s.sessions.LoadAndSave, s.authenticate)
		r.Get("/", func(w http.ResponseWriter, r *http.Request) { http.Redirect(w, r, "/admin", http.StatusSeeOther) })
		r.Get("/admin/login", s.handleLoginShow)
		r.Post("/admin/login", s.handleLoginSubmit)
		r.Post("/admin/logout", s.handleSessionDelete)
		r.Post("/api/v1/session", s.handleSessionCreate)
		r.Delete("/api/v1/session", s.handleSessionDelete)
		// An invitation's link: for whoever holds it, signed in or not (the token authorizes).
		r.Get("/admin/invitations/{token}", s.handleInvitationShow)
		r.Post("/admin/invitations/{token}", s.handleInvitationAccept)

		r.Group(func(r chi.Router) {
			r.Use(s.requireUser)
			r.Get("/admin", s.handleWorkspacesList)
			r.Get("/admin/notifications", s.handleNotificationsList)
			r.Post("/admin/notifications/read", s.handleNotificationsRead)
			r.Post("/admin/notifications/{id}/read", s.handleNotificationRead)
			s.accountRoutes(r)
			// Path parameters are checked before any query sees them: {ws} before the
			// membership lookup, {id} and {run_id} once routed (r.With wraps each route).
			r.Route("/admin/workspaces/{ws}", func(r chi.Router) {
				r.Use(s.validParams, s.requireMember)
				s.unmatchedIn(r)
				r = r.With(s.validParams)
				// The workspace's landing page: /admin/workspaces/{ws} (and with a slash).
				r.With(s.can(access.View)).Get("/", s.handleDashboardShow)
				r.With(s.can(access.View)).Get("/onboarding", s.handleDraftsPage)
				r.Post("/onboarding", s.handleDraftCreate)
				r.Get("/onboarding/new", s.handleDraftNew)
				r.With(s.can(access.View)).Get("/onboarding/{id}", s.handleWizardShow)
				r.With(s.can(access.View)).Get("/onboarding/{id}/checkpoint", s.handleCheckpointShow)
				r.With(s.can(access.View)).Get("/onboarding/{id}/changes", s.handleWizardChanges)
				// Wizard writes: the service checks the capability itself, after the draft's
				// workspace (404 before 403, as on the API).
				r.Post("/onboarding/{id}/identify", s.handleWizardIdentify)
				r.Post("/onboarding/{id}/connection", s.handleWizardConnection)
				r.Post("/onboarding/{id}/verification", s.handleWizardVerificationCreate)
				r.Post("/onboarding/{id}/bootstrap", s.handleWizardBootstrapCreate)
				r.Post("/onboarding/{id}/activation", s.handleWizardActivationCreate)
				r.Post("/onboarding/{id}/activation-request", s.handleWizardActivationRequestCreate)
				r.Post("/onboarding/{id}/cancel", s.handleWizardCancelCreate)
				// Cancel selected (the drafts list's bulk action): owners only, 403 for others.
				r.With(s.can(access.Cancel)).Post("/onboarding/cancellations", s.handleDraftsCancelBulk)
				r.With(s.can(access.View)).Get("/onboarding/cancellations", s.handleDraftsCancelBulkRedirect)
				// A form's action URL opened as a page (a refresh after a refused submit, a
				// bookmark) leads back to the wizard at that form's step, never to a 405.
				for action, step := range wizardFormSteps {
					r.With(s.can(access.View)).Get("/onboarding/{id}/"+action, s.handleWizardFormRedirect(step))
				}
				r.With(s.can(access.View)).Get("/operations", s.handleOperationsList)
				r.With(s.can(access.View)).Get("/operations/{run_id}", s.handleOperationShow)
				// Retry: the service checks the start capability after the run's workspace.
				r.Post("/operations/{run_id}/retry", s.handleOperationRetry)
				r.With(s.can(access.View)).Get("/operations/{run_id}/retry", s.handleOperationRetryRedirect)
				r.With(s.can(access.AuditView)).Get("/audit", s.handleAuditList)
				r.With(s.can(access.View)).Get("/search", s.handleSearchShow)
				r.Route("/members", s.memberRoutes)
			})
			r.Route("/api/v1/workspaces/{ws}", func(r chi.Router) {
				r.Use(s.validParams, s.requireMember, s.can(access.View))
				s.unmatchedIn(r)
				r = r.With(s.validParams)
				r.Get("/onboarding/drafts", s.handleAPIDraftsList)
				r.Post("/onboarding/drafts", s.handleAPIDraftCreate)
				r.Get("/onboarding/drafts/{id}", s.handleAPIDraftShow)
				r.Patch("/onboarding/drafts/{id}", s.handleAPIDraftUpdate)
				r.Post("/onboarding/drafts/{id}/verification", s.handleAPIVerificationCreate)
				r.Post("/onboarding/drafts/{id}/bootstrap", s.handleAPIBootstrapCreate)
				r.Post("/onboarding/drafts/{id}/activation", s.handleAPIActivationCreate)
				r.Post("/onboarding/drafts/{id}/cancellation", s.handleAPICancellationCreate)
				r.Post("/onboarding/drafts/{id}/activation-request", s.handleAPIActivationRequestCreate)
				r.Get("/operation-runs", s.handleAPIRunsList)
				r.Get("/operation-runs/{run_id}", s.handleAPIRunShow)
				r.Post("/operation-runs/{run_id}/retry", s.handleAPIRunRetry)
			})
		})
		r.NotFound(s.handleNotFound)
		r.MethodNotAllowed(s.handleMethodNotAllowed)
	})

	return r
}

// unmatchedIn gives a mounted router the answers to unmatched paths and methods itself. It would
// otherwise inherit the group's, which are wrapped in the group's middleware: the session
// would be loaded and saved twice (two Set-Cookie lines).
func (s *Server) unmatchedIn(r chi.Router) {
	r.NotFound(s.handleNotFound)
	r.MethodNotAllowed(s.handleMethodNotAllowed)
}

func (s *Server) handleNotFound(w http.ResponseWriter, r *http.Request) {
	markUnmatched(r)
	s.error(w, r, errNotFound)
}

func (s *Server) handleMethodNotAllowed(w http.ResponseWriter, r *http.Request) {
	s.error(w, r, &httpError{Status: http.StatusMethodNotAllowed, Title: "Method not allowed", Detail: "This resource does not support " + r.Method + "."})
}

// memberRoutes are a workspace's members page and its forms (owners: members.manage).
func (s *Server) memberRoutes(r chi.Router) {
	r.Use(s.can(access.MembersManage))
	r.Get("/", s.handleMembersList)
	r.Post("/", s.handleMemberCreate)
	r.Post("/{user_id}/role", s.handleMemberRoleUpdate)
	r.Post("/{user_id}/remove", s.handleMemberDelete)
	r.Post("/invitations", s.handleInvitationCreate)
	r.Post("/invitations/{invitation_id}/revoke", s.handleInvitationRevoke)
	// Form URLs opened as pages lead back to the list.
	back := func(w http.ResponseWriter, r *http.Request) {
		m, _ := memberFrom(r.Context())
		http.Redirect(w, r, "/admin/workspaces/"+m.Workspace+"/members", http.StatusSeeOther)
	}
	r.Get("/{user_id}/role", back)
	r.Get("/{user_id}/remove", back)
	r.Get("/invitations", back)
	r.Get("/invitations/{invitation_id}/revoke", back)
}

// accountRoutes are the signed-in person's own: the profile page and its API (password,
// sessions). Nothing here belongs to a workspace.
func (s *Server) accountRoutes(r chi.Router) {
	r.Get("/admin/profile", s.handleProfileShow)
	r.Post("/admin/profile/password", s.handleProfilePassword)
	r.Post("/admin/profile/sessions/end", s.handleProfileSessionsEnd)
	r.Post("/admin/profile/sessions/{session_id}/end", s.handleProfileSessionsEnd)
	// Form URLs opened as pages lead back to the profile.
	r.Get("/admin/profile/password", s.handleProfileRedirect)
	r.Get("/admin/profile/sessions/end", s.handleProfileRedirect)
	r.Get("/admin/profile/sessions/{session_id}/end", s.handleProfileRedirect)
	r.Get("/api/v1/sessions", s.handleAPISessionsList)
	r.Post("/api/v1/sessions/end-others", s.handleAPISessionsEnd)
	r.Delete("/api/v1/sessions/{session_id}", s.handleAPISessionsEnd)
	r.Put("/api/v1/password", s.handleAPIPasswordUpdate)
}

// MetricsHandler serves the Prometheus registry. It is not one of Handler's routes: cmd/onboard
// serves it on its own listen address (METRICS_ADDR, loopback by default), away from the public
// one. Nil when there is no registry.
func (s *Server) MetricsHandler() http.Handler {
	if s.deps.Registry == nil {
		return nil
	}
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", promhttp.HandlerFor(s.deps.Registry, promhttp.HandlerOpts{}))
	return mux
}
