package presenter

import (
	"context"
	"fmt"
	"io"
	"net/url"
	"slices"

	"github.com/tenantops/onboard/internal/access"
	"github.com/tenantops/onboard/internal/live"
	"github.com/tenantops/onboard/internal/onboarding"
	"github.com/tenantops/onboard/internal/operation"
	"github.com/tenantops/onboard/views"
)

// DashboardSince is the operations list's since= value that selects the dashboard's window.
const DashboardSince = "24h"

// dashboardRuns is the order of the runs' numbers: active by status, then done by outcome.
var dashboardRuns = []string{
	string(operation.StatusQueued), string(operation.StatusRunning),
	string(operation.OutcomeSucceeded), string(operation.OutcomePartiallySucceeded),
	string(operation.OutcomeFailed), string(operation.OutcomeCancelled),
}

// DashboardView maps a workspace's dashboard to its fragment's data for a cohort's
// capabilities. Every number carries the URL of the list filtered to the same set: the
// drafts list by lifecycle= or checkpoint=, the operations list by status= / outcome= and
// since=24h.
func DashboardView(d onboarding.Dashboard, caps access.Set) views.DashboardData {
	ws := "/admin/workspaces/" + url.PathEscape(d.Workspace)
	drafts := func(k, v string) string { return ws + "/onboarding?" + url.Values{k: {v}}.Encode() }
	runs := func(key string) string {
		q := url.Values{"since": {DashboardSince}}
		if slices.Contains([]string{string(operation.StatusQueued), string(operation.StatusRunning)}, key) {
			q.Set("status", key)
		} else {
			q.Set("status", string(operation.StatusCompleted))
			q.Set("outcome", key)
		}
		return ws + "/operations?" + q.Encode()
	}
	out := views.DashboardData{Workspace: d.Workspace, Topic: live.WorkspaceTopic(d.WorkspaceID), Rev: d.Rev,
		CanCreate: caps.Has(access.DraftCreate)}
	for _, l := range onboarding.Lifecycles {
		b := views.LifecycleBadge(string(l))
		out.Lifecycle = append(out.Lifecycle, views.DashStat{Key: string(l), Label: b.Label, Tone: b.Tone,
			N: d.Lifecycle[string(l)], URL: drafts("lifecycle", string(l))})
	}
	for _, c := range onboarding.Checkpoints {
		out.Checkpoint = append(out.Checkpoint, views.DashStat{Key: string(c), Label: views.StepTitle(c.Step()), Tone: "neutral",
			N: d.Checkpoint[string(c)], URL: drafts("checkpoint", string(c))})
	}
	for _, k := range dashboardRuns {
		b := views.RunBadge(string(operation.StatusCompleted), k)
		if k == string(operation.StatusQueued) || k == string(operation.StatusRunning) {
			b = views.RunBadge(k, "")
		}
		out.Runs = append(out.Runs, views.DashStat{Key: k, Label: b.Label, Tone: b.Tone, N: d.Runs[k], URL: runs(k)})
	}
	blocked := views.LifecycleBadge(string(onboarding.LifecycleActionRequired))
	ready := views.LifecycleBadge(string(onboarding.LifecycleReadyForActivation))
	out.NeedsAction = []views.DashStat{
		{Key: "blocked", Label: blocked.Label, Tone: "danger", N: d.Lifecycle[string(onboarding.LifecycleActionRequired)],
			URL: drafts("lifecycle", string(onboarding.LifecycleActionRequired))},
		{Key: "ready", Label: ready.Label, Tone: "info", N: d.Lifecycle[string(onboarding.LifecycleReadyForActivation)],
			URL: drafts("lifecycle", string(onboarding.LifecycleReadyForActivation))},
		{Key: "failed", Label: "Failed operations, 24 h", Tone: "danger", N: d.Runs[string(operation.OutcomeFailed)],
			URL: runs(string(operation.OutcomeFailed))},
	}
	for _, r := range d.Requested {
		out.Requested = append(out.Requested, views.DashRequest{Name: r.Name, URL: views.DraftURL(d.Workspace, r.ID), By: r.By, At: r.At})
	}
	for _, p := range d.Present {
		out.Present = append(out.Present, views.DashPerson{Email: p.Email, Draft: p.Draft, URL: views.DraftURL(d.Workspace, p.DraftID),
			Step: p.Step, Idle: p.Idle})
	}
	return out
}

// RenderDashboard writes the workspace topic's fragment for a cohort (a role).
func RenderDashboard(ctx context.Context, w io.Writer, d onboarding.Dashboard, cohort string) error {
	role, err := access.ParseRole(cohort)
	if err != nil {
		return fmt.Errorf("render dashboard: %w", err)
	}
	return views.Dashboard(DashboardView(d, access.For(role))).Render(ctx, w)
}
