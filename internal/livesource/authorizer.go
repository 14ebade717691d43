package livesource

import (
	"context"
	"errors"
	"fmt"

	"github.com/tenantops/onboard/internal/access"
	"github.com/tenantops/onboard/internal/fault"
	"github.com/tenantops/onboard/internal/live"
	"github.com/tenantops/onboard/internal/postgres"
)

// Authorizer is the hub's live.Authorizer over the memberships table, by access.MayView.
type Authorizer struct{ db *postgres.DB }

// NewAuthorizer returns the Authorizer reading db.
func NewAuthorizer(db *postgres.DB) Authorizer { return Authorizer{db} }

// Cohort is the viewer's permission cohort in workspace, an error wrapping fault.ErrNotFound
// when they are not a member, or fault.ErrForbidden when their role may not view.
func (a Authorizer) Cohort(ctx context.Context, userID, workspaceID int64) (string, error) {
	role, err := a.db.MemberRole(ctx, userID, workspaceID)
	if err == nil {
		err = access.MayView(access.Member{WorkspaceID: workspaceID, Role: role}, workspaceID)
	}
	switch {
	case errors.Is(err, access.ErrNotMember):
		return "", fmt.Errorf("user %d in workspace %d: %w", userID, workspaceID, fault.ErrNotFound)
	case errors.Is(err, access.ErrCannotView):
		return "", fmt.Errorf("role %s: %w", role, fault.ErrForbidden)
	case err != nil:
		return "", err
	}
	return access.Cohort(role), nil
}

// MayWatch is live.TopicAuthorizer: the audit topic is for cohorts that may read the audit
// log (audit.view), as its page is; every other topic for any cohort that may view.
func (a Authorizer) MayWatch(cohort, topic string) bool {
	if prefix, _, ok := live.ParseTopic(topic); ok && prefix == live.TopicAuditPrefix {
		return mayReadAudit(cohort)
	}
	return true
}

// mayReadAudit reports whether a cohort (a role, access.Cohort) holds audit.view.
func mayReadAudit(cohort string) bool {
	return access.Member{Role: access.Role(cohort)}.Can(access.AuditView)
}

// CurrentRevs is liveedge.Config's CurrentRevs: the revs of the drafts userID may view, by the
// hub's own rule (Cohort for each workspace: a member with the view capability); the
// others are left out, so the hub refuses them as it would.
func (a Authorizer) CurrentRevs(ctx context.Context, userID int64, ids []string) (map[string]int64, error) {
	revs, err := a.db.DraftRevs(ctx, ids)
	if err != nil {
		return nil, err
	}
	allowed := map[int64]bool{}
	out := make(map[string]int64, len(revs))
	for id, r := range revs {
		ok, known := allowed[r.Workspace]
		if !known {
			_, err := a.Cohort(ctx, userID, r.Workspace)
			if err != nil && !errors.Is(err, fault.ErrNotFound) && !errors.Is(err, fault.ErrForbidden) {
				return nil, err
			}
			ok = err == nil
			allowed[r.Workspace] = ok
		}
		if ok {
			out[id] = r.Rev
		}
	}
	return out, nil
}
