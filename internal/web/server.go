// Package web is the HTTP adapter: routes, handlers, middleware, error mapping; it routes
// /live and /live/poll to the live endpoint (internal/liveedge). Handlers parse, call one
// service method, and render or redirect.
package web

import (
	"context"
	"log/slog"
	"net/http"
	"runtime"
	"time"

	"github.com/alexedwards/scs/v2"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/tenantops/onboard/internal/access"
	"github.com/tenantops/onboard/internal/liveedge"
	"github.com/tenantops/onboard/internal/onboarding"
	"github.com/tenantops/onboard/internal/operation"
	"github.com/tenantops/onboard/internal/presenter"
	"github.com/tenantops/onboard/views"
)

// Accounts is what the web layer needs to know about operators and memberships.
type Accounts interface {
	UserCredentials(ctx context.Context, email string) (access.User, string, error)
	User(ctx context.Context, id int64) (access.User, error)
	Member(ctx context.Context, u access.User, slug string) (access.Member, error)
	Memberships(ctx context.Context, u access.User) ([]access.Member, error)
}

// DraftLister lists a workspace's drafts (most recently updated first) for the start page,
// the drafts list and the run filters.
type DraftLister interface {
	Drafts(ctx context.Context, workspaceID int64) ([]onboarding.Draft, error)
	// DraftPage reads one page of the drafts list.
	DraftPage(ctx context.Context, workspaceID int64, f onboarding.DraftFilter) ([]onboarding.Draft, error)
	// DraftCounts counts the drafts f's search selects, per lifecycle state.
	DraftCounts(ctx context.Context, workspaceID int64, f onboarding.DraftFilter) (map[string]int, error)
	// RunPage and RunCount read the operations list.
	RunPage(ctx context.Context, workspaceID int64, f onboarding.RunPageFilter) ([]operation.Run, error)
	RunCount(ctx context.Context, workspaceID int64, f onboarding.RunPageFilter) (int, error)
	// DraftsDigest and RunsDigest read the lists' live topics (counts per state included).
	DraftsDigest(ctx context.Context, workspaceID int64) (onboarding.DraftsDigest, error)
	RunsDigest(ctx context.Context, workspaceID int64) (onboarding.RunsDigest, error)
}

// listDraftRows reads a workspace's drafts as list rows.
func (s *Server) listDraftRows(ctx context.Context, workspaceID int64) ([]views.DraftRow, error) {
	ds, err := s.deps.Drafts.Drafts(ctx, workspaceID)
	if err != nil {
		return nil, err
	}
	return presenter.DraftRows(ds), nil
}

// Config holds the web layer's settings.
type Config struct {
	SecureCookies bool          // set the Secure flag on the session cookie (serve over HTTPS)
	SessionTTL    time.Duration // absolute session lifetime
	// LoginLimit bounds the failed sign-ins of one account from one client address in each
	// LoginWindow (and the wrong current passwords in the password form, counted apart);
	// LoginAccountLimit those of one account from every address; LoginAddressLimit those
	// from one address over every account, a ceiling that spares accounts not under attack
	// (signInGate.reserveSignIn). A successful sign-in gives its attempts back.
	LoginLimit        int
	LoginAccountLimit int
	LoginAddressLimit int
	LoginWindow       time.Duration
	// LoginConcurrency is how many sign-ins may hash a password at once (argon2id, 19 MiB
	// each); more are refused with 503. 0 means min(runtime.NumCPU(), 2): with the garbage
	// collector's headroom a slot costs about 40 MiB of resident memory, and two keep a
	// sign-in flood within 100 MiB of idle (docs/reliability.md).
	LoginConcurrency int
	// ClientIPHeader names a header set by a trusted reverse proxy that carries the client
	// address (for example X-Forwarded-For); empty means the connection's peer address.
	ClientIPHeader string
	// PublicOrigin is the origin browsers reach the app at (PUBLIC_URL through ParsePublicURL,
	// e.g. "https://onboard.example.com"): trusted by the cross-origin check, and https turns
	// on Strict-Transport-Security. Empty: none configured.
	PublicOrigin string
	// LiveOrigins are the only Origins /live accepts from a browser, as ParsePublicURL gives
	// them: PublicOrigin, or without it on a loopback listen address that address's
	// loopback origins. Never the request's Host, which the client chooses. Empty: browsers
	// are refused (clients without Origin pass).
	LiveOrigins []string
}

// Deps are the services the handlers call; cmd/onboard wires them.
type Deps struct {
	Logger        *slog.Logger
	Accounts      Accounts
	Drafts        DraftLister
	Service       DraftService
	Snapshots     Snapshots     // one draft's snapshot for the wizard, polls and run pages
	Notifications Notifications // the signed-in user's notifications
	Audit         AuditLister
	Members       MemberService     // the members page
	Invitations   InvitationService // invitations on the members page and their links
	Account       AccountService    // the profile page, sessions and the security record
	Search        RunSearcher       // the global search's runs; nil leaves that group empty
	Dashboards    Dashboards        // the workspace dashboard (the same reader as its live topic)
	SessionStore  scs.Store
	LoginAttempts LoginAttempts
	Ready         func(context.Context) error
	Registry      *prometheus.Registry
	VerifyPW      func(hash, pw string) (bool, error)
	Live          *liveedge.Config // GET /live and /live/poll; nil answers 503
	// LiveSessions caches who a session cookie signs in for /live and /live/poll, kept true
	// by the listener's session events; nil reads the session on every connect.
	LiveSessions *LiveSessions
	// Unavailable tells errors of a database that does not answer (answered 503 with
	// Retry-After: the request may succeed when retried) from other failures (500). Nil: none.
	Unavailable func(error) bool
}

// Server holds the handlers' shared state.
type Server struct {
	cfg      Config
	deps     Deps
	log      *slog.Logger
	sessions *scs.SessionManager
	gate     *signInGate
	metrics  *httpMetrics
	live     *liveedge.Endpoint // GET /live and /live/poll
}

// New builds the server; Handler returns its routes.
func New(cfg Config, deps Deps) *Server {
	if cfg.SessionTTL == 0 {
		cfg.SessionTTL = 12 * time.Hour
	}
	if cfg.LoginLimit == 0 {
		cfg.LoginLimit = 5
	}
	if cfg.LoginAccountLimit == 0 {
		cfg.LoginAccountLimit = 20
	}
	if cfg.LoginAddressLimit == 0 {
		cfg.LoginAddressLimit = 100
	}
	if cfg.LoginConcurrency == 0 {
		cfg.LoginConcurrency = min(runtime.NumCPU(), 2)
	}
	if cfg.LoginWindow == 0 {
		cfg.LoginWindow = time.Minute
	}
	sm := scs.New()
	sm.Store = deps.SessionStore
	sm.Lifetime = cfg.SessionTTL
	sm.IdleTimeout = 2 * time.Hour
	sm.Cookie.Name = "onboard_session"
	sm.Cookie.HttpOnly = true
	sm.Cookie.SameSite = http.SameSiteLaxMode
	sm.Cookie.Secure = cfg.SecureCookies
	sm.Cookie.Path = "/"
	s := &Server{
		cfg:      cfg,
		deps:     deps,
		log:      deps.Logger,
		sessions: sm,
		gate:     newSignInGate(cfg.LoginConcurrency, deps.LoginAttempts, deps.Registry),
		metrics:  newHTTPMetrics(deps.Registry),
	}
	sm.ErrorFunc = s.sessionError
	s.live = liveedge.New(deps.Live, s.liveEdge(), deps.Logger)
	return s
}

// sessionError answers a request whose session could not be loaded or saved. scs saves the
// session just before the handler's status is written, so the handler's own answer would
// follow this one (a second status, two documents in one body): the response is sealed.
func (s *Server) sessionError(w http.ResponseWriter, r *http.Request, err error) {
	if o, ok := r.Context().Value(observationKey).(*observation); ok && o.sessionLoaded {
		r = r.WithContext(context.WithValue(r.Context(), sessionSaveKey, true))
	}
	s.error(w, r, err)
	if rec, ok := w.(*statusRecorder); ok {
		rec.sealed = true
	}
}
