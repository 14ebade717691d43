package provider

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/tenantops/onboard/internal/operation"
)

// Scenario is the simulated provider's behaviour for one tenant, chosen by the suffix of its
// primary domain.
type Scenario string

// Scenarios, by primary domain suffix. Any other domain behaves like ScenarioHealthy.
const (
	ScenarioHealthy      Scenario = "healthy"       // *.healthy.test: every check passes, every item succeeds
	ScenarioMissingPerms Scenario = "missing-perms" // *.missing-perms.test: verification fails, missing permissions
	ScenarioSlow         Scenario = "slow"          // *.slow.test: each run takes Options.SlowDuration
	ScenarioFlaky        Scenario = "flaky"         // *.flaky.test: the first attempt fails transiently
	ScenarioPartial      Scenario = "partial"       // *.partial.test: bootstrap partially succeeds
)

// ScenarioFor returns the scenario of a primary domain (case-insensitive; the suffix's own
// domain, e.g. "slow.test", counts too).
func ScenarioFor(primaryDomain string) Scenario {
	d := strings.TrimSuffix(strings.ToLower(strings.TrimSpace(primaryDomain)), ".")
	for _, s := range []Scenario{ScenarioMissingPerms, ScenarioSlow, ScenarioFlaky, ScenarioPartial, ScenarioHealthy} {
		suffix := string(s) + ".test"
		if d == suffix || strings.HasSuffix(d, "."+suffix) {
			return s
		}
	}
	return ScenarioHealthy
}

// Options configure the simulated provider. The zero value is the demo's behaviour.
type Options struct {
	// SlowDuration is how long a run of a *.slow.test tenant takes. Default 20s.
	SlowDuration time.Duration
	// ProgressInterval is how often slow runs report progress. Default 1s.
	ProgressInterval time.Duration
	// Duration is how long runs of every other scenario take. Default 0 (immediately).
	Duration time.Duration
}

// Simulated is a deterministic, concurrency-safe Provider for demos and tests. It never
// uses the connection's secret, so no message it returns can contain it.
type Simulated struct {
	opts Options

	mu       sync.Mutex
	attempts map[flakyKey]int // calls seen per (tenant, run kind), for the flaky scenario
}

type flakyKey struct{ tenant, kind string }

var _ Provider = (*Simulated)(nil)

// NewSimulated returns a simulated provider.
func NewSimulated(opts Options) *Simulated {
	if opts.SlowDuration <= 0 {
		opts.SlowDuration = 20 * time.Second
	}
	if opts.ProgressInterval <= 0 {
		opts.ProgressInterval = time.Second
	}
	return &Simulated{opts: opts, attempts: map[flakyKey]int{}}
}

type attemptKey struct{}

type attemptInfo struct {
	runID   string
	attempt int
}

// WithAttempt tells the simulated provider which run and (1-based) attempt a call belongs
// to. With it, the flaky scenario fails exactly attempt 1 of every run, whatever the process
// or provider instance; without it, the first call per (tenant, run kind) made to this
// Simulated fails and every later one succeeds. Real providers ignore it.
func WithAttempt(ctx context.Context, runID string, attempt int) context.Context {
	return context.WithValue(ctx, attemptKey{}, attemptInfo{runID: runID, attempt: attempt})
}

// VerifyAccess implements Provider.
func (s *Simulated) VerifyAccess(ctx context.Context, c Connection, progress Progress) (Report, error) {
	scenario := ScenarioFor(c.PrimaryDomain)
	checks := verificationChecks(c, scenario)
	if err := s.run(ctx, c, scenario, string(operation.TypeVerifyAccess), len(checks), progress); err != nil {
		return Report{}, err
	}
	r := Report{Checks: checks}
	if !r.Passed() {
		r.ReasonCode = operation.ReasonMissingPermissions
	}
	return r, nil
}

// Bootstrap implements Provider. Operations: inventory_sync, policy_sync, baseline_snapshot.
func (s *Simulated) Bootstrap(ctx context.Context, c Connection, op string, progress Progress) (BootstrapResult, error) {
	scenario := ScenarioFor(c.PrimaryDomain)
	items, err := bootstrapItems(op, scenario)
	if err != nil {
		return BootstrapResult{}, err
	}
	typ, _ := operation.BootstrapType(op) // op is known: bootstrapItems has items for it
	if err := s.run(ctx, c, scenario, string(typ), len(items), progress); err != nil {
		return BootstrapResult{}, err
	}
	res := BootstrapResult{Counts: Counts{Total: len(items)}, Items: items}
	for _, it := range items {
		switch it.Status {
		case ItemSucceeded:
			res.Succeeded++
		case ItemFailed:
			res.Failed++
		case ItemSkipped:
			res.Skipped++
		}
	}
	return res, nil
}

// run spends the scenario's time on a run of total units, reporting progress, and fails the
// flaky scenario's first attempt.
func (s *Simulated) run(ctx context.Context, c Connection, scenario Scenario, kind string, total int, progress Progress) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if progress == nil {
		progress = func(int, int) {}
	}
	if scenario == ScenarioFlaky && s.firstAttempt(ctx, c, kind) {
		return fmt.Errorf("simulated provider: %s for %s: Microsoft Graph throttled the request (HTTP 429, retry after 2s): %w",
			kind, c.PrimaryDomain, ErrTransient)
	}
	progress(0, total)
	d, steps := s.opts.Duration, 1
	if scenario == ScenarioSlow {
		d = s.opts.SlowDuration
		steps = max(1, int(d/s.opts.ProgressInterval))
	}
	for i := 1; i <= steps; i++ {
		if err := wait(ctx, d/time.Duration(steps)); err != nil {
			return err
		}
		progress(total*i/steps, total)
	}
	return nil
}

// firstAttempt reports whether this call is the flaky scenario's failing first attempt.
func (s *Simulated) firstAttempt(ctx context.Context, c Connection, kind string) bool {
	if a, ok := ctx.Value(attemptKey{}).(attemptInfo); ok {
		return a.attempt <= 1
	}
	tenant := c.TenantID
	if tenant == "" {
		tenant = strings.ToLower(c.PrimaryDomain)
	}
	k := flakyKey{tenant: tenant, kind: kind}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.attempts[k]++
	return s.attempts[k] == 1
}

func wait(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}
