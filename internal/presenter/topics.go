package presenter

import (
	"context"
	"io"
	"strings"

	"github.com/tenantops/onboard/internal/live"
	"github.com/tenantops/onboard/internal/onboarding"
	"github.com/tenantops/onboard/views"
)

// This file maps the live topics' snapshots (docs/live.md, Topics) to their fragments; the
// pages render the same components, so a page and a push never disagree.

// DraftsDigestView maps the drafts list topic's snapshot to its fragment's data.
func DraftsDigestView(d onboarding.DraftsDigest) views.DraftsDigestData {
	out := views.DraftsDigestData{Topic: live.DraftsTopic(d.WorkspaceID), Rev: d.Rev, Counts: d.Counts, Floor: d.Floor}
	for _, c := range d.Changed {
		out.Changed = append(out.Changed, views.DigestDraft{ID: c.ID, Lifecycle: c.Lifecycle, Checkpoint: c.OpenCheckpoint, Rev: c.Rev,
			Search: strings.ToLower(c.DisplayName + "\n" + c.PrimaryDomain + "\n" + c.TenantID)})
	}
	return out
}

// RunsDigestView maps the operations list topic's snapshot to its fragment's data.
func RunsDigestView(d onboarding.RunsDigest) views.RunsDigestData {
	out := views.RunsDigestData{Topic: live.RunsTopic(d.WorkspaceID), Rev: d.Rev}
	for _, r := range d.Latest {
		out.Latest = append(out.Latest, views.DigestRun{ID: r.ID, DraftID: r.DraftID, Type: r.Type, Status: r.Status,
			Outcome: r.Outcome, CreatedMs: r.CreatedAt.UnixMilli(), Search: r.Search})
	}
	return out
}

// BellView maps a user's notifications topic to the bell.
func BellView(b onboarding.Bell) views.BellData {
	out := views.BellData{Topic: live.UserTopic(b.UserID), Rev: b.Rev, Unread: b.Unread}
	for _, it := range b.Latest {
		out.Items = append(out.Items, NotificationView(it.Notification, it.Workspace, it.Tenant))
	}
	return out
}

// notificationView composes one notification's view: run notifications read their type,
// outcome and reason from the payload (ids and codes only).
func NotificationView(n onboarding.Notification, workspace, tenant string) views.NotificationView {
	return views.NotificationView{
		ID: n.ID, Workspace: workspace, DraftID: n.DraftID, RunID: n.RunID,
		Tenant: tenant, RunType: Str(n.Payload, "type"), Outcome: Str(n.Payload, "outcome"),
		ReasonCode: Str(n.Payload, "reason_code"), At: n.CreatedAt, Unread: n.ReadAt.IsZero(),
		Title: n.Title, Body: n.Body,
	}
}

// RenderDraftsDigest, RenderRunsDigest and RenderBell write a topic's fragment; each is the
// same for every cohort of the topic.
func RenderDraftsDigest(ctx context.Context, w io.Writer, d onboarding.DraftsDigest) error {
	return views.DraftsDigest(DraftsDigestView(d)).Render(ctx, w)
}

// RenderRunsDigest writes the operations list topic's fragment.
func RenderRunsDigest(ctx context.Context, w io.Writer, d onboarding.RunsDigest) error {
	return views.RunsDigest(RunsDigestView(d)).Render(ctx, w)
}

// AuditDigestView maps a workspace's audit topic to its fragment.
func AuditDigestView(d onboarding.AuditDigest) views.AuditDigestData {
	return views.AuditDigestData{Topic: live.AuditTopic(d.WorkspaceID), Rev: d.Rev}
}

// RenderAuditDigest writes the audit log topic's fragment.
func RenderAuditDigest(ctx context.Context, w io.Writer, d onboarding.AuditDigest) error {
	return views.AuditDigest(AuditDigestView(d)).Render(ctx, w)
}

// RenderBell writes the notifications bell.
func RenderBell(ctx context.Context, w io.Writer, b onboarding.Bell) error {
	return views.Bell(BellView(b)).Render(ctx, w)
}
