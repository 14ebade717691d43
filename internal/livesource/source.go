// Package livesource connects the live hub to PostgreSQL and the presenter: it loads and
// renders the hub's snapshots (Source), authorises viewers by the may-view rule (Authorizer)
// and hands the listener's events to the hub (HubNotifier).
package livesource

import (
	"bytes"
	"context"
	"errors"
	"fmt"

	"github.com/tenantops/onboard/internal/fault"
	"github.com/tenantops/onboard/internal/live"
	"github.com/tenantops/onboard/internal/onboarding"
	"github.com/tenantops/onboard/internal/postgres"
	"github.com/tenantops/onboard/internal/presenter"
)

// Source is the hub's live.Source: one snapshot query per draft change (the draft, its
// latest runs and its connection) and one render per view and permission cohort, with the
// same components the pages use.
type Source struct {
	db   *postgres.DB
	dash *Dashboards
}

// NewSource returns the Source reading db.
func NewSource(db *postgres.DB) Source { return Source{db, NewDashboards(db)} }

// Dashboards is the source's reader of workspace dashboards, which pages share (so a page and
// its pushed fragment never disagree) and which cmd attaches to presence and the hub.
func (s Source) Dashboards() *Dashboards { return s.dash }

// draftSnapshot is one draft's state as the hub sees it.
type draftSnapshot struct {
	snap onboarding.Snapshot
	rev  int64 // snap.Rev(), computed once
}

func (s draftSnapshot) Target() string     { return s.snap.Draft.ID }
func (s draftSnapshot) WorkspaceID() int64 { return s.snap.Draft.WorkspaceID }
func (s draftSnapshot) Rev() int64         { return s.rev }

// Topic snapshots (docs/live.md, Topics): the drafts list's and the operations list's digests
// of a workspace, and a user's bell. Each is one query's answer; Target is the topic id.
type (
	draftsDigestSnapshot struct{ d onboarding.DraftsDigest }
	runsDigestSnapshot   struct{ d onboarding.RunsDigest }
	auditDigestSnapshot  struct{ d onboarding.AuditDigest }
	bellSnapshot         struct{ b onboarding.Bell }
	dashboardSnapshot    struct{ d onboarding.Dashboard }
)

func (s dashboardSnapshot) Target() string     { return live.WorkspaceTopic(s.d.WorkspaceID) }
func (s dashboardSnapshot) WorkspaceID() int64 { return s.d.WorkspaceID }
func (s dashboardSnapshot) Rev() int64         { return s.d.Rev }

func (s draftsDigestSnapshot) Target() string     { return live.DraftsTopic(s.d.WorkspaceID) }
func (s draftsDigestSnapshot) WorkspaceID() int64 { return s.d.WorkspaceID }
func (s draftsDigestSnapshot) Rev() int64         { return s.d.Rev }
func (s runsDigestSnapshot) Target() string       { return live.RunsTopic(s.d.WorkspaceID) }
func (s runsDigestSnapshot) WorkspaceID() int64   { return s.d.WorkspaceID }
func (s runsDigestSnapshot) Rev() int64           { return s.d.Rev }
func (s auditDigestSnapshot) Target() string      { return live.AuditTopic(s.d.WorkspaceID) }
func (s auditDigestSnapshot) WorkspaceID() int64  { return s.d.WorkspaceID }
func (s auditDigestSnapshot) Rev() int64          { return s.d.Rev }
func (s bellSnapshot) Target() string             { return live.UserTopic(s.b.UserID) }
func (s bellSnapshot) WorkspaceID() int64         { return 0 } // the owner check authorises it
func (s bellSnapshot) Rev() int64                 { return s.b.Rev }

// loadTopic reads a topic's snapshot; ok is false when id is not a topic.
func (s Source) loadTopic(ctx context.Context, id string) (_ live.Snapshot, ok bool, err error) {
	prefix, n, ok := live.ParseTopic(id)
	if !ok {
		return nil, false, nil
	}
	switch prefix {
	case live.TopicDraftsPrefix:
		d, err := s.db.DraftsDigest(ctx, n)
		return draftsDigestSnapshot{d}, true, err
	case live.TopicRunsPrefix:
		d, err := s.db.RunsDigest(ctx, n)
		return runsDigestSnapshot{d}, true, err
	case live.TopicAuditPrefix:
		d, err := s.db.AuditDigest(ctx, n)
		return auditDigestSnapshot{d}, true, err
	case live.TopicWorkspacePrefix:
		d, err := s.dash.Dashboard(ctx, n)
		return dashboardSnapshot{d}, true, err
	default:
		b, err := s.db.Bell(ctx, n)
		return bellSnapshot{b}, true, err
	}
}

// Load reads a topic's or a draft's snapshot; a draft that is gone is fault.ErrGone.
func (s Source) Load(ctx context.Context, draftID string) (live.Snapshot, error) {
	if snap, ok, err := s.loadTopic(ctx, draftID); ok {
		return snap, err
	}
	snap, err := s.db.DraftSnapshot(ctx, draftID)
	if errors.Is(err, fault.ErrNotFound) {
		return nil, fmt.Errorf("draft %s: %w", draftID, fault.ErrGone)
	}
	if err != nil {
		return nil, err
	}
	return draftSnapshot{snap: snap, rev: snap.Rev()}, nil
}

// Render renders snap for view and cohort with the presenter.
func (s Source) Render(ctx context.Context, snap live.Snapshot, view, cohort string) ([]byte, error) {
	var buf bytes.Buffer
	var err error
	switch snap := snap.(type) {
	case draftSnapshot:
		err = presenter.RenderFragment(ctx, &buf, snap.snap, view, cohort)
	case draftsDigestSnapshot:
		err = presenter.RenderDraftsDigest(ctx, &buf, snap.d)
	case runsDigestSnapshot:
		err = presenter.RenderRunsDigest(ctx, &buf, snap.d)
	case auditDigestSnapshot:
		d := snap.d
		if !mayReadAudit(cohort) {
			d.Rev = 0 // never rendered for such a cohort (MayWatch); should it be, it says nothing
		}
		err = presenter.RenderAuditDigest(ctx, &buf, d)
	case bellSnapshot:
		err = presenter.RenderBell(ctx, &buf, snap.b)
	case dashboardSnapshot:
		err = presenter.RenderDashboard(ctx, &buf, snap.d, cohort)
	default:
		err = fmt.Errorf("render: unexpected snapshot %T", snap)
	}
	if err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}
