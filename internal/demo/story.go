// Package demo loads the demo story: onboardings in every state, made through the real
// services, so a new demo database looks lived in.
package demo

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/tenantops/onboard/internal/access"
	"github.com/tenantops/onboard/internal/fault"
	"github.com/tenantops/onboard/internal/onboarding"
	"github.com/tenantops/onboard/internal/operation"
	"github.com/tenantops/onboard/internal/postgres"
	"github.com/tenantops/onboard/internal/provider"
	"github.com/tenantops/onboard/internal/worker"
)

// Story gives a new demo database a lived-in acme workspace: onboardings in every state
// (in progress, blocked by missing permissions, verified, completed with and without an
// override, cancelled), made by the demo operators through the real services, with runs
// executed by the simulated provider, so drafts, runs, notifications and audit history are
// all real. It does nothing when acme already has drafts (idempotent).
func Story(ctx context.Context, db *postgres.DB, key []byte, log *slog.Logger) error {
	// Its own store without a job queue: the story runs each run inline, before any worker
	// starts, so no job races it.
	store, err := postgres.NewStore(db, postgres.StoreConfig{SecretKey: key})
	if err != nil {
		return err
	}
	svc := onboarding.NewService(store, time.Now)
	runs := onboarding.NewRunService(store, time.Now)
	prov := provider.NewSimulated(provider.Options{})
	members := map[string]access.Member{}
	for _, email := range []string{"owner@acme.test", "operator@acme.test", "operator2@acme.test"} {
		u, _, err := db.UserCredentials(ctx, email)
		if err != nil {
			return fmt.Errorf("demo story: %s: %w", email, err)
		}
		m, err := db.Member(ctx, u, "acme")
		if err != nil {
			return fmt.Errorf("demo story: %s: %w", email, err)
		}
		members[email] = m
	}
	if ds, err := svc.List(ctx, members["owner@acme.test"]); err != nil || len(ds) > 0 {
		return err // already has drafts: leave them
	}
	s := &story{ctx: ctx, svc: svc, runs: runs, prov: prov}
	owner, op, op2 := members["owner@acme.test"], members["operator@acme.test"], members["operator2@acme.test"]

	// In progress: identified and connected, verification not started yet.
	d := s.start(op, "3f2504e0-4f89-41d3-9a0c-0305e82c3301", "Northwind Traders", "northwind.healthy.test")
	s.connect(op, d)
	// Blocked: verification found missing permissions (the assist shows how to fix them).
	d = s.start(op2, "7c9e6679-7425-40de-944b-e07fc1f90ae7", "Fabrikam", "fabrikam.missing-perms.test")
	s.verify(op2, s.connect(op2, d))
	// Verified, renamed by a second operator, ready for activation.
	d = s.verify(op, s.connect(op, s.start(op, "c0ffee00-1d3e-4f50-8a9b-0c1d2e3f4a5b", "Contoso", "contoso.healthy.test")))
	name := "Contoso Ltd"
	s.update(op2, d, onboarding.Patch{DisplayName: &name})
	// Completed: verified, bootstrapped, activated by the owner.
	d = s.verify(op, s.connect(op, s.start(op, "9a1c0b3e-2f4d-4e8a-b1c6-5d7e8f9a0b1c", "Adatum", "adatum.healthy.test")))
	d = s.bootstrap(op, d, "inventory_sync", "policy_sync")
	s.activate(owner, d, "")
	// Completed with an override: bootstrap partly failed, the owner accepted it.
	d = s.verify(owner, s.connect(owner, s.start(owner, "6ba7b810-9dad-41d1-80b4-00c04fd430c8", "Tailspin Toys", "tailspin.partial.test")))
	d = s.bootstrap(owner, d, "inventory_sync")
	s.activate(owner, d, "Two retired devices failed to sync; the customer confirmed they are decommissioned.")
	// Cancelled by the owner after the customer withdrew.
	d = s.connect(op, s.start(op, "1b4e28ba-2fa1-41d2-883f-0016d3cca427", "Woodgrove Bank", "woodgrove.healthy.test"))
	s.cancel(owner, d)
	if s.err != nil {
		return fmt.Errorf("demo story: %w", s.err)
	}
	log.Info("demo story loaded", "workspace", "acme", "drafts", 6)
	return nil
}

// story runs the demo's steps; the first error stops the rest (later steps see s.err).
type story struct {
	ctx  context.Context
	svc  *onboarding.Service
	runs *onboarding.RunService
	prov provider.Provider
	err  error
}

func (s *story) start(m access.Member, tenant, name, domain string) onboarding.Draft {
	if s.err != nil {
		return onboarding.Draft{}
	}
	d, _, err := s.svc.Create(s.ctx, m, onboarding.CreateInput{TenantID: tenant, DisplayName: name, PrimaryDomain: domain})
	s.err = err
	return d
}

func (s *story) update(m access.Member, d onboarding.Draft, p onboarding.Patch) onboarding.Draft {
	if s.err != nil {
		return d
	}
	d, s.err = s.svc.Update(s.ctx, m, d.ID, d.Version, p)
	return d
}

func (s *story) connect(m access.Member, d onboarding.Draft) onboarding.Draft {
	step := 3
	return s.update(m, d, onboarding.Patch{CurrentStep: &step, Connection: &onboarding.ConnectionInput{
		ClientID: onboarding.NewGUID(), ClientSecret: "demo-secret-" + onboarding.NewGUID()}})
}

// finish executes runs inline and returns the draft as they left it.
func (s *story) finish(m access.Member, d onboarding.Draft, rs ...operation.Run) onboarding.Draft {
	for _, r := range rs {
		if s.err == nil {
			s.err = worker.RunInline(s.ctx, s.runs, s.prov, r.ID)
		}
	}
	if s.err != nil {
		return d
	}
	d, s.err = s.svc.Get(s.ctx, m, d.ID)
	return d
}

func (s *story) verify(m access.Member, d onboarding.Draft) onboarding.Draft {
	if s.err != nil {
		return d
	}
	_, r, _, err := s.svc.StartVerification(s.ctx, m, d.ID, d.Version)
	if s.err = err; err != nil {
		return d
	}
	return s.finish(m, d, r)
}

func (s *story) bootstrap(m access.Member, d onboarding.Draft, ops ...string) onboarding.Draft {
	if s.err != nil {
		return d
	}
	_, rs, err := s.svc.SelectAndStartBootstrap(s.ctx, m, d.ID, d.Version, ops)
	if s.err = err; err != nil {
		return d
	}
	return s.finish(m, d, rs...)
}

func (s *story) activate(m access.Member, d onboarding.Draft, overrideReason string) {
	if s.err != nil {
		return
	}
	_, s.err = s.svc.Activate(s.ctx, m, d.ID, d.Version, overrideReason)
}

func (s *story) cancel(m access.Member, d onboarding.Draft) {
	if s.err != nil {
		return
	}
	_, s.err = s.svc.Cancel(s.ctx, m, d.ID, d.Version)
	if errors.Is(s.err, fault.ErrNotFound) {
		s.err = fmt.Errorf("cancel %s: %w", d.ID, s.err)
	}
}
