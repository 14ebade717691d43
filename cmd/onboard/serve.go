package main

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"

	"github.com/tenantops/onboard/internal/account"
	"github.com/tenantops/onboard/internal/demo"
	"github.com/tenantops/onboard/internal/envflag"
	"github.com/tenantops/onboard/internal/invitation"
	"github.com/tenantops/onboard/internal/liveedge"
	"github.com/tenantops/onboard/internal/livesource"
	"github.com/tenantops/onboard/internal/membership"
	"github.com/tenantops/onboard/internal/onboarding"
	"github.com/tenantops/onboard/internal/password"
	"github.com/tenantops/onboard/internal/postgres"
	"github.com/tenantops/onboard/internal/smtpmail"
	"github.com/tenantops/onboard/internal/web"
	"github.com/tenantops/onboard/internal/worker"
)

// hashPassword hashes new passwords (the demo's, and those operators set). Tests replace it
// with a cheap cost (main_test.go): Verify reads the cost from each hash.
var hashPassword = password.Hash

// serveConfig is the configuration of serve and worker.
type serveConfig struct {
	Name          string // "serve" or "worker": the command, and the database application name
	DB            envflag.DB
	Addr          string
	MetricsAddr   string
	PublicURL     string
	publicOrigin  string // PublicURL checked and normalised
	Migrate       bool
	Demo          string
	SecureCookies bool
	SecretKey     string
	PreviousKeys  string
	LogFormat     string
	LogLevel      string
	ShutdownWait  time.Duration
	Workers       workerConfig
	DemoStory     bool
	LiveMaxUser   int // /live sockets per user and per client address (per process)
	// LiveLoadRate and LiveLoadBurst pace the snapshot loads of /live connects (live.Options).
	LiveLoadRate, LiveLoadBurst int
	LiveMaxAddr                 int
	// PresenceLease and PresenceTTL: how often this process renews its presence lease, and
	// how long after its last renewal a crashed process's presence disappears.
	PresenceLease time.Duration
	PresenceTTL   time.Duration
	PprofAddr     string // loopback address for net/http/pprof; empty = none
	Login         loginConfig
	// SMTPURL and SMTPFrom: the mail server invitations go out through (empty: none, the
	// owner is shown the link) and their sender.
	SMTPURL  string
	SMTPFrom string
	mailer   *smtpmail.Mailer // SMTPURL parsed; nil without it
}

// loginConfig bounds what sign-ins may cost (see web.Config).
type loginConfig struct {
	Limit, AccountLimit, AddressLimit, Concurrency int
	Window                                         time.Duration
	ProxyHeader                                    string
}

func (c *loginConfig) register(f *envflag.Set) {
	f.Int(&c.Limit, "login-limit", "LOGIN_LIMIT", 5, "failed sign-ins allowed per account from one client address in each login window (and wrong current passwords in the password form)")
	f.Int(&c.AccountLimit, "login-account-limit", "LOGIN_ACCOUNT_LIMIT", 20, "failed sign-ins allowed per account from all addresses in each login window")
	f.Int(&c.AddressLimit, "login-address-limit", "LOGIN_ADDRESS_LIMIT", 100, "failed sign-ins per client address in each login window past which only accounts with fewer than LOGIN_LIMIT failures may still sign in")
	f.Duration(&c.Window, "login-window", "LOGIN_WINDOW", time.Minute, "the fixed window sign-in attempts are counted in")
	f.Int(&c.Concurrency, "login-concurrency", "LOGIN_CONCURRENCY", 0, "sign-ins hashing a password at once, 19 MiB each; more get 503 (0: min(CPUs, 2), about 40 MiB of memory per slot)")
	f.Str(&c.ProxyHeader, "trusted-proxy-header", "TRUSTED_PROXY_HEADER", "", "header a trusted reverse proxy sets to the client address, e.g. X-Forwarded-For (empty: the peer address)")
}

// runServe is `onboard serve` (withWeb) and `onboard worker`: config → build → serve.
func runServe(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer, withWeb bool) error {
	cfg, err := parseServeConfig(args, getenv, stderr, withWeb)
	if err != nil {
		return err
	}
	log, err := newLogger(stderr, cfg.LogFormat, cfg.LogLevel)
	if err != nil {
		return err
	}
	if err := startPprof(ctx, cfg.PprofAddr, log); err != nil {
		return err
	}
	a, err := buildApp(ctx, cfg, log)
	if err != nil {
		return err
	}
	defer a.close()
	if !withWeb {
		log.Info("worker started", "database", redactURL(cfg.DB.URL))
		<-ctx.Done()
		return nil
	}
	return serveWeb(ctx, cfg, a, stdout, log)
}

// parseServeConfig reads the flags and environment of serve (withWeb) or worker.
func parseServeConfig(args []string, getenv func(string) string, stderr io.Writer, withWeb bool) (serveConfig, error) {
	name, summary := "serve", "Serve the web console, the live endpoint and the workers in one process."
	if !withWeb {
		name, summary = "worker", "Run the workers only (no web server)."
	}
	f := envflag.New(name, summary, getenv, stderr)
	cfg := serveConfig{Name: name}
	cfg.DB.Register(f)
	f.Str(&cfg.Addr, "addr", "ADDR", "127.0.0.1:8080", "listen address of the web server (port 0 picks a free one)")
	f.Str(&cfg.MetricsAddr, "metrics-addr", "METRICS_ADDR", "127.0.0.1:9090", "listen address of /metrics, apart from the public one (empty: no metrics endpoint)")
	f.Str(&cfg.PublicURL, "public-url", "PUBLIC_URL", "", "URL browsers reach the app at, e.g. https://onboard.example.com; /live accepts only this Origin (required unless -addr is a loopback address, where /live accepts http://127.0.0.1, localhost and [::1] on the listen port)")
	f.Bool(&cfg.Migrate, "migrate", "MIGRATE", false, "apply pending migrations at start")
	f.Str(&cfg.Demo, "demo", "DEMO", "never", "load demo data at start: never, if-empty or always")
	f.Bool(&cfg.DemoStory, "demo-story", "DEMO_STORY", true, "with the demo data, also load demo onboardings in every state (when acme has none)")
	f.Bool(&cfg.SecureCookies, "secure-cookies", "COOKIE_SECURE", false, "mark the session cookie Secure (serve over HTTPS)")
	f.Secret(&cfg.SecretKey, "secret-key", "SECRET_KEY", "base64 of 32 random bytes; encrypts provider secrets at rest")
	f.Secret(&cfg.PreviousKeys, "secret-key-previous", "SECRET_KEY_PREVIOUS", "keys SECRET_KEY replaced, comma-separated: still read, and secrets under them are sealed again under SECRET_KEY at start")
	f.Str(&cfg.LogFormat, "log-format", "LOG_FORMAT", "text", "log format: text or json")
	f.Str(&cfg.LogLevel, "log-level", "LOG_LEVEL", "info", "log level: debug, info, warn, error")
	f.Duration(&cfg.ShutdownWait, "shutdown-timeout", "SHUTDOWN_TIMEOUT", 10*time.Second, "how long to wait for requests and runs at shutdown")
	cfg.Workers.register(f)
	f.Int(&cfg.LiveMaxUser, "live-max-sockets-per-user", "LIVE_MAX_SOCKETS_PER_USER", defaultLiveMaxUser,
		"open /live WebSockets one user may hold in this process; more are closed with 4429 (negative: no cap)")
	f.Int(&cfg.LiveMaxAddr, "live-max-sockets-per-address", "LIVE_MAX_SOCKETS_PER_ADDRESS", defaultLiveMaxAddr,
		"open /live WebSockets one client address may hold in this process; more are closed with 4429 (negative: no cap)")
	f.Int(&cfg.LiveLoadRate, "live-load-rate", "LIVE_LOAD_RATE", 500,
		"snapshot loads per second the /live connects of a reconnect storm may start, after a burst of -live-load-burst (0: unpaced)")
	f.Int(&cfg.LiveLoadBurst, "live-load-burst", "LIVE_LOAD_BURST", 100, "snapshot loads /live connects may start at once before -live-load-rate paces them")
	f.Duration(&cfg.PresenceLease, "presence-lease-interval", "PRESENCE_LEASE_INTERVAL", 20*time.Second,
		"how often this process renews its presence lease (who has which draft open through its sockets)")
	f.Duration(&cfg.PresenceTTL, "presence-lease-ttl", "PRESENCE_LEASE_TTL", 60*time.Second,
		"a presence lease not renewed for this long expires: a crashed process's presence disappears (more than twice the interval)")
	f.Str(&cfg.PprofAddr, "pprof-addr", "PPROF_ADDR", "", "serve net/http/pprof on this loopback address (e.g. 127.0.0.1:6060); empty: off")
	if withWeb {
		cfg.Login.register(f)
		f.Secret(&cfg.SMTPURL, "smtp-url", "SMTP_URL", "mail server for invitations: smtp://user:pass@host:587 (STARTTLS when offered; ?tls=required or ?tls=none) or smtps://user:pass@host:465; empty: the owner is shown the invitation link to send")
		f.Str(&cfg.SMTPFrom, "smtp-from", "SMTP_FROM", "Tenant onboarding <onboard@localhost>", "sender of invitation emails")
	}
	if err := f.Parse(args); err != nil {
		return serveConfig{}, err
	}
	if withWeb && (cfg.Login.Limit < 1 || cfg.Login.AccountLimit < 1 || cfg.Login.AddressLimit < 1 || cfg.Login.Concurrency < 0 || cfg.Login.Window <= 0) {
		return serveConfig{}, errors.New("-login-limit, -login-account-limit and -login-address-limit must be at least 1, -login-concurrency at least 0, -login-window positive")
	}
	if cfg.SMTPURL != "" {
		m, err := smtpmail.New(cfg.SMTPURL, cfg.SMTPFrom)
		if err != nil {
			// Never the URL itself: it may hold the mail server's password.
			return serveConfig{}, fmt.Errorf("-smtp-url / -smtp-from: %w", err)
		}
		cfg.mailer = m
	}
	if cfg.PresenceLease <= 0 || cfg.PresenceTTL <= 2*cfg.PresenceLease {
		return serveConfig{}, errors.New("-presence-lease-interval must be positive and -presence-lease-ttl more than twice it")
	}
	switch cfg.Demo {
	case "never", "if-empty", "always":
	default:
		return serveConfig{}, fmt.Errorf("-demo %q: want never, if-empty or always", cfg.Demo)
	}
	if cfg.PublicURL != "" {
		o, err := liveedge.ParsePublicURL(cfg.PublicURL)
		if err != nil {
			return serveConfig{}, fmt.Errorf("-public-url %q: %w", cfg.PublicURL, err)
		}
		cfg.publicOrigin = o
	}
	if withWeb && cfg.publicOrigin == "" {
		// The /live Origin check needs to know the origin browsers use; the request's Host
		// would let any page whose name points at this server pass it.
		loopback, err := isLoopback(cfg.Addr)
		if err != nil {
			return serveConfig{}, fmt.Errorf("-addr %q: %w", cfg.Addr, err)
		}
		if !loopback {
			return serveConfig{}, fmt.Errorf("-addr %q is not a loopback address: set PUBLIC_URL (-public-url) to the URL browsers reach the app at, e.g. https://onboard.example.com, the only origin /live accepts", cfg.Addr)
		}
	}
	return cfg, nil
}

// liveOrigins are the origins /live accepts: PUBLIC_URL's, or on a loopback listen address
// (parseServeConfig refuses any other without PUBLIC_URL) its port on each loopback name.
// bound is the listener's address, so that port 0 gives the port actually picked.
func liveOrigins(publicOrigin string, bound net.Addr) []string {
	if publicOrigin != "" {
		return []string{publicOrigin}
	}
	_, port, err := net.SplitHostPort(bound.String())
	if err != nil {
		return nil
	}
	var out []string
	for _, host := range []string{"127.0.0.1", "localhost", "[::1]"} {
		if o, err := liveedge.ParsePublicURL("http://" + host + ":" + port); err == nil {
			out = append(out, o)
		}
	}
	return out
}

// app is what serve and worker build before serving: the database, the store, the services
// and the started workers.
type app struct {
	db      *postgres.DB
	store   *postgres.Store
	svc     *onboarding.Service
	workers *worker.Workers
	close   func() // stops the workers (waiting up to ShutdownWait), then closes the database
}

// buildApp opens the database, migrates and loads demo data as configured, and wires the
// store, the services and the workers (started unless -workers 0).
func buildApp(ctx context.Context, cfg serveConfig, log *slog.Logger) (_ *app, err error) {
	db, err := postgres.Open(ctx, cfg.DB.URL, "onboard-"+cfg.Name, int32(cfg.DB.MaxConns))
	if err != nil {
		return nil, err
	}
	defer func() {
		if err != nil {
			db.Close()
		}
	}()
	loaded, err := prepareDatabase(ctx, db, cfg)
	if err != nil {
		return nil, err
	}
	key, err := decodeKey(cfg.SecretKey)
	if err != nil {
		return nil, err
	}
	if loaded && cfg.DemoStory {
		if err := demo.Story(ctx, db, key, log); err != nil {
			return nil, err
		}
	}
	var previous [][]byte
	for _, p := range strings.Split(cfg.PreviousKeys, ",") {
		if strings.TrimSpace(p) == "" {
			continue
		}
		k, err := decodeKey(p)
		if err != nil {
			return nil, fmt.Errorf("SECRET_KEY_PREVIOUS: %w", err)
		}
		previous = append(previous, k)
	}
	// The store enqueues each new run's job in the run's own transaction; the workers that
	// provide Enqueue need the run service over the store, so the function is bound after
	// both exist.
	a := &app{db: db}
	a.store, err = postgres.NewStore(db, postgres.StoreConfig{SecretKey: key, PreviousKeys: previous, Enqueue: func(ctx context.Context, tx pgx.Tx, runID string) (int64, error) {
		return a.workers.Enqueue(ctx, tx, runID)
	}})
	if err != nil {
		return nil, err
	}
	if len(previous) > 0 {
		// A failure here leaves those secrets readable under the previous key; it does not
		// stop the process.
		if n, err := a.store.ResealSecrets(ctx); err != nil {
			log.Error("reseal provider secrets under the current key", "error", err)
		} else {
			log.Info("provider secrets sealed again under the current key", "count", n, "key_id", a.store.KeyID())
		}
	}
	a.svc = onboarding.NewService(a.store, time.Now)
	runs := onboarding.NewRunService(a.store, time.Now)

	// Workers run in this process for both serve and worker; stopped last, after the web
	// server, so runs started by the final requests still get their chance.
	workers, stopWorkers, err := startWorkers(ctx, db.Pool, runs, cfg.Workers, log)
	if err != nil {
		return nil, err
	}
	a.workers = workers
	a.close = func() {
		stopCtx, cancel := context.WithTimeout(context.Background(), cfg.ShutdownWait)
		defer cancel()
		if err := stopWorkers(stopCtx); err != nil {
			log.Error("stop workers", "error", err)
		}
		db.Close()
	}
	return a, nil
}

// prepareDatabase applies migrations (-migrate) and loads the demo data (-demo); loaded
// reports that it did, so the caller adds the demo story once the services exist.
func prepareDatabase(ctx context.Context, db *postgres.DB, cfg serveConfig) (loaded bool, err error) {
	if cfg.Migrate {
		if err := db.MigrateUp(ctx); err != nil {
			return false, err
		}
	}
	if _, err := db.BindSessionOwners(ctx, web.SessionOwner); err != nil {
		return false, err
	}
	if cfg.Demo == "never" {
		return false, nil
	}
	has, err := db.HasData(ctx)
	if err != nil {
		return false, err
	}
	if cfg.Demo == "always" || !has {
		return true, db.LoadDemo(ctx, hashPassword)
	}
	return false, nil
}

// serveWeb starts the live path and the web server, serves until ctx ends, then shuts both
// down in order: requests first, then the /live sockets, then the hub and listener.
func serveWeb(ctx context.Context, cfg serveConfig, a *app, stdout io.Writer, log *slog.Logger) error {
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	liveCtx, stopLive := context.WithCancel(ctx)
	defer stopLive()
	src := livesource.NewSource(a.db)
	lv, err := startLive(liveCtx, a.db, cfg.DB.URL, src, reg, log, cfg.liveOptions())
	if err != nil {
		return err
	}
	defer func() {
		stopLive()
		_ = lv.wait()
	}()
	// Start serving once the listener listens, so /readyz is true from the first request;
	// a database that refuses LISTEN only delays readiness, it does not stop the server.
	select {
	case <-lv.Listener.Listening():
	case <-time.After(10 * time.Second):
		log.Warn("live listener not connected yet; serving anyway (/readyz reports it)")
	case <-ctx.Done():
	}

	ln, err := net.Listen("tcp", cfg.Addr)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", cfg.Addr, err)
	}
	srv := webServer(cfg, liveOrigins(cfg.publicOrigin, ln.Addr()), a.store, a.svc, membership.NewService(a.store, time.Now), reg, log, lv)
	httpSrv := &http.Server{
		Handler:           srv.Handler(),
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		IdleTimeout:       120 * time.Second,
		BaseContext:       func(net.Listener) context.Context { return ctx },
	}
	errc := make(chan error, 2)
	if cfg.MetricsAddr != "" {
		mln, err := net.Listen("tcp", cfg.MetricsAddr)
		if err != nil {
			ln.Close()
			return fmt.Errorf("listen on %s (metrics): %w", cfg.MetricsAddr, err)
		}
		metricsSrv := &http.Server{Handler: srv.MetricsHandler(), ReadHeaderTimeout: 10 * time.Second}
		go func() { errc <- metricsSrv.Serve(mln) }()
		defer metricsSrv.Close()
		fmt.Fprintf(stdout, "onboard: metrics on http://%s/metrics\n", mln.Addr())
	}
	go func() { errc <- httpSrv.Serve(ln) }()

	fmt.Fprintf(stdout, "onboard: listening on http://%s\n", ln.Addr())
	if cfg.Demo != "never" {
		printLogins(stdout)
	}
	log.Info("server started", "addr", ln.Addr().String(), "database", redactURL(cfg.DB.URL))

	select {
	case err := <-errc:
		return fmt.Errorf("serve: %w", err)
	case <-ctx.Done():
	}
	shutdownCtx, cancel := context.WithTimeout(context.Background(), cfg.ShutdownWait)
	defer cancel()
	if err := shutdownWeb(shutdownCtx, httpSrv, srv); err != nil {
		return err
	}
	stopLive()
	if err := lv.wait(); err != nil {
		return fmt.Errorf("live: %w", err)
	}
	log.Info("server stopped")
	return nil
}

// shutdownWeb stops accepting requests, waits for ordinary ones, then closes the /live
// sockets with 1001: http.Server.Shutdown does not close hijacked connections.
func shutdownWeb(ctx context.Context, httpSrv *http.Server, srv *web.Server) error {
	err := httpSrv.Shutdown(ctx)
	if lerr := srv.CloseLive(ctx); err == nil {
		err = lerr
	}
	if err != nil && !errors.Is(err, context.DeadlineExceeded) {
		return fmt.Errorf("shutdown: %w", err)
	}
	return nil
}

// dashboards is the web's reader of dashboards: nil (an interface without a value) when the
// live path has none.
func (lv *liveRuntime) dashboards() web.Dashboards {
	if lv.Dashboards == nil {
		return nil
	}
	return lv.Dashboards
}

// webServer wires the web adapter to the database and the live path; origins are the ones
// /live accepts (liveOrigins).
func webServer(cfg serveConfig, origins []string, store *postgres.Store, svc *onboarding.Service, members *membership.Service, reg *prometheus.Registry, log *slog.Logger, lv *liveRuntime) *web.Server {
	return web.New(web.Config{
		SecureCookies:     cfg.SecureCookies,
		LoginLimit:        cfg.Login.Limit,
		LoginAccountLimit: cfg.Login.AccountLimit,
		LoginAddressLimit: cfg.Login.AddressLimit,
		LoginWindow:       cfg.Login.Window,
		LoginConcurrency:  cfg.Login.Concurrency,
		ClientIPHeader:    cfg.Login.ProxyHeader,
		PublicOrigin:      cfg.publicOrigin,
		LiveOrigins:       origins,
	}, web.Deps{
		Logger:        log,
		Accounts:      store,
		Drafts:        store,
		Service:       svc,
		Snapshots:     store,
		Notifications: store,
		Audit:         store,
		Search:        store,
		Dashboards:    lv.dashboards(),
		Members:       members,
		Invitations:   invitation.NewService(store, time.Now, hashPassword, mailerOf(cfg)),
		Account:       account.NewService(store, time.Now, hashPassword, password.Verify),
		SessionStore:  postgres.NewSessionStore(store.DB),
		LoginAttempts: store.DB,
		Ready:         lv.ready(store.DB),
		Registry:      reg,
		Live:          lv.Endpoint,
		LiveSessions:  lv.Sessions,
		Unavailable:   postgres.Unavailable,
	})
}

// mailerOf is the configured mailer as the invitations see it: a nil *smtpmail.Mailer must
// be a nil interface, or the service would try to send.
func mailerOf(cfg serveConfig) invitation.Mailer {
	if cfg.mailer == nil {
		return nil
	}
	return cfg.mailer
}

// decodeKey reads SECRET_KEY: base64 (standard or URL alphabet) of exactly 32 bytes.
func decodeKey(s string) ([]byte, error) {
	if s == "" {
		return nil, errors.New("SECRET_KEY (-secret-key) is required: base64 of 32 random bytes, e.g. `head -c32 /dev/urandom | base64`; make run creates one in .data/secret-key")
	}
	for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.URLEncoding, base64.RawStdEncoding, base64.RawURLEncoding} {
		if k, err := enc.DecodeString(strings.TrimSpace(s)); err == nil {
			if len(k) != 32 {
				return nil, fmt.Errorf("SECRET_KEY decodes to %d bytes, want 32", len(k))
			}
			return k, nil
		}
	}
	return nil, errors.New("SECRET_KEY is not valid base64")
}

// redactURL hides a database URL's credentials for the log.
func redactURL(u string) string {
	if i := strings.Index(u, "@"); i > 0 {
		if j := strings.Index(u, "://"); j > 0 && j < i {
			return u[:j+3] + "…" + u[i:]
		}
	}
	return u
}
