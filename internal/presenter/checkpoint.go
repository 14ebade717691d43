// Package presenter maps the read model (onboarding.Snapshot and the live topics' digests) to
// what views render: the wizard's checkpoint and its form errors, list rows, run panels, audit
// entries, digests and the bell.
// Pages (internal/web) and the live hub's source (cmd/onboard) both render through it, so a
// pushed fragment and a page are the same bytes for the same snapshot and cohort.
package presenter

import (
	"cmp"
	"context"
	"fmt"
	"io"
	"slices"

	"github.com/tenantops/onboard/internal/access"
	"github.com/tenantops/onboard/internal/fault"
	"github.com/tenantops/onboard/internal/live"
	"github.com/tenantops/onboard/internal/onboarding"
	"github.com/tenantops/onboard/internal/operation"
	"github.com/tenantops/onboard/views"
)

// systemActor is how a change without a user (a run completion) reads.
const systemActor = "system"

// CheckpointView maps a draft snapshot — the draft, its runs (newest first, as
// postgres.DraftSnapshot returns them), its attached connection (nil when none) — and a
// cohort's capabilities to the wizard's checkpoint data. It is the one place that does so:
// pages, the poll fallback and the live hub all render through it.
//
// The lifecycle columns are taken from the draft as stored (the domain derived them);
// the stage comes from onboarding.ResolveStage and the blockers from onboarding.Readiness over
// the snapshot's facts (onboarding.Snapshot.Facts, assembled as the write path assembles
// them). The result depends on caps, never on the viewer, because the same bytes are pushed
// to every tab of the cohort; Form and Errors stay nil.
//
// step is the step the tab shows (1–5; a step not reachable yet shows the current
// checkpoint's), or 0 for "the current checkpoint's step". It is the tab's own: the stored
// current_step (the API's resume point) never decides what a page shows.
func CheckpointView(snap onboarding.Snapshot, caps access.Set, step int) views.CheckpointData {
	d, conn := snap.Draft, snap.Conn
	facts, latest := snap.Facts(), snap.LatestRuns()
	e := storedEvaluation(d)
	open := d.Open()
	cd := views.CheckpointData{
		Workspace:          d.Workspace,
		DraftID:            d.ID,
		Version:            d.Version,
		Rev:                snap.Rev(),
		Lifecycle:          string(d.Lifecycle),
		Checkpoint:         string(d.CurrentCheckpoint),
		LastCompleted:      string(d.LastCompletedCheckpoint),
		ReasonCode:         string(d.ReasonCode),
		BlockingReasonCode: string(d.BlockingReasonCode),
		UpdatedBy:          ActorName(d.UpdatedBy),
		UpdatedAt:          d.UpdatedAt,
		WizardStage:        views.WizardStage(onboarding.ResolveStage(e, step)),
		TenantID:           d.TenantID,
		DisplayName:        d.DisplayName,
		PrimaryDomain:      d.PrimaryDomain,
		CompletedAt:        d.CompletedAt,
		CancelledAt:        d.CancelledAt,
		CanEdit:            caps.Has(access.DraftEdit) && open,
		CanVerify:          caps.Has(access.VerificationStart) && open,
		CanBootstrap:       caps.Has(access.BootstrapStart) && open,
		CanActivate:        caps.Has(access.Activate) && open,
		CanOverride:        caps.Has(access.Override) && open,
		CanCancel:          caps.Has(access.Cancel) && open,

		CanRequestActivation:  caps.Has(access.ActivationRequest) && open,
		ActivationRequestedAt: d.ActivationRequestedAt,
	}
	if !d.ActivationRequestedAt.IsZero() {
		cd.ActivationRequestedBy = cmp.Or(d.ActivationRequestedBy, "a former member")
	}
	if step >= 1 && step <= onboarding.Steps {
		cd.View = live.View{Kind: live.ViewCheckpoint, Step: step}.String()
	}
	if conn != nil {
		cd.Connection = &views.ConnectionView{ClientID: conn.ClientID, Status: string(conn.Status), CreatedAt: conn.CreatedAt}
	}
	if v, ok := latest[operation.TypeVerifyAccess]; ok {
		rv := RunView(v)
		cd.Verification = &rv
	}
	for _, op := range operation.BootstrapOperations {
		ov := views.BootstrapOpView{Operation: op, Selected: slices.Contains(d.BootstrapOperations, op)}
		typ, _ := operation.BootstrapType(op) // never fails for an offered operation
		if r, ok := latest[typ]; ok {
			rv := RunView(r)
			ov.Run = &rv
		}
		cd.Bootstrap = append(cd.Bootstrap, ov)
	}
	rr := onboarding.Readiness(facts, e)
	cd.Readiness = views.ReadinessView{Ready: rr.Ready, Blockers: codes(rr.Blockers), Lifted: codes(rr.Lifted), Overridable: rr.Overridable}

	// The draft keeps no "completed_by"/"cancelled_by": the activation (or cancellation) is
	// the write that set the timestamp, and it stamped updated_at with the same now, so
	// while no later write happened its updated_by is who did it. Otherwise we say nothing.
	if !d.CompletedAt.IsZero() && d.UpdatedAt.Equal(d.CompletedAt) {
		cd.CompletedBy = d.UpdatedBy
	}
	if !d.CancelledAt.IsZero() && d.UpdatedAt.Equal(d.CancelledAt) {
		cd.CancelledBy = d.UpdatedBy
	}
	if d.OverrideReason != "" {
		// An override is recorded only by an activation (same transaction as completed_at).
		cd.Override = &views.OverrideView{Reason: d.OverrideReason, By: cd.CompletedBy, At: d.CompletedAt}
	}
	cd.BootstrapSkipped = d.BootstrapSkipped()
	cd.StepStates = stepStates(cd)
	return cd
}

// stepStates says what each wizard step is, from the stored lifecycle, the runs shown and
// the readiness: a step is only "done" when it really is, a failed run reads failed, a
// blocker an override lifted reads overridden, a partial bootstrap reads done-with-warnings,
// and bootstrap reads skipped only after an operator chose to skip it.
func stepStates(cd views.CheckpointData) [onboarding.Steps]string {
	var st [onboarding.Steps]string
	for i := range st {
		switch {
		case cd.Blocked[i]:
			st[i] = views.StepBlocked
		case cd.Done[i]:
			st[i] = views.StepDone
		case !cd.Reachable[i]:
			st[i] = views.StepLocked
		default:
			st[i] = views.StepOpen
		}
	}
	// An override is recorded only by the activation it allowed, so with one every failed or
	// partial run the draft still shows is what the owner accepted.
	overridden := cd.Override != nil
	if v := cd.Verification; v != nil && cd.Reachable[2] {
		troubled := v.Status == string(operation.StatusCompleted) &&
			(v.Outcome == string(operation.OutcomeFailed) || v.Outcome == string(operation.OutcomePartiallySucceeded))
		switch {
		case v.Active():
			st[2] = views.StepActive
		case troubled && overridden:
			st[2] = views.StepOverridden
		case troubled && v.Outcome == string(operation.OutcomeFailed):
			st[2] = views.StepFailed
		}
	}
	if cd.Reachable[3] {
		st[3] = bootstrapState(cd, st[3], overridden)
	}
	if cd.Lifecycle == string(onboarding.LifecycleCancelled) {
		// A cancelled onboarding can be read at every step; what it never reached says so.
		for i := range st {
			if st[i] == views.StepOpen || st[i] == views.StepBlocked {
				st[i] = views.StepNotReached
			}
		}
	}
	return st
}

// bootstrapState is the Bootstrap step's state from its selected operations' latest runs;
// stage is what the stage alone said.
func bootstrapState(cd views.CheckpointData, stage string, overridden bool) string {
	selected, active, failed, partial, ran := 0, false, false, false, false
	for _, op := range cd.Bootstrap {
		if !op.Selected {
			continue
		}
		selected++
		if op.Run == nil {
			continue
		}
		ran = true
		switch {
		case op.Run.Active():
			active = true
		case op.Run.Outcome == string(operation.OutcomeFailed):
			failed = true
		case op.Run.Outcome == string(operation.OutcomePartiallySucceeded):
			partial = true
		}
	}
	switch {
	case active:
		return views.StepActive
	case (failed || partial) && overridden:
		return views.StepOverridden
	case failed:
		return views.StepFailed
	case partial:
		return views.StepWarning
	case selected == 0 && (cd.BootstrapSkipped || cd.Lifecycle == string(onboarding.LifecycleCompleted)):
		return views.StepSkipped
	case (selected == 0 || !ran) && cd.Lifecycle != string(onboarding.LifecycleCompleted):
		// Nothing selected and no decision yet, or selected but not started: the step is
		// open, not done, whatever checkpoint the lifecycle moved on to.
		return views.StepOpen
	}
	return stage
}

// storedEvaluation is the evaluation held in the draft's five lifecycle columns.
func storedEvaluation(d onboarding.Draft) onboarding.Evaluation {
	return onboarding.Evaluation{Lifecycle: d.Lifecycle, Current: d.CurrentCheckpoint,
		LastCompleted: d.LastCompletedCheckpoint, Reason: d.ReasonCode, Blocking: d.BlockingReasonCode}
}

func codes(cs []onboarding.ReasonCode) []string {
	out := make([]string, 0, len(cs))
	for _, c := range cs {
		out = append(out, string(c))
	}
	return out
}

func ActorName(email string) string {
	if email == "" {
		return systemActor
	}
	return email
}

// RunView maps an operation run to what pages show, with its verification checks or
// bootstrap items parsed from run.Context["result"]. The result is decoded JSON written by a
// worker: anything of an unexpected shape is left out rather than trusted.
func RunView(r operation.Run) views.RunView {
	rv := views.RunView{
		ID: r.ID, Type: string(r.Type), Status: string(r.Status), Outcome: string(r.Outcome),
		ReasonCode: r.ReasonCode, Counts: views.RunCounts(r.Counts), Initiator: r.InitiatorEmail,
		Attempt: r.Attempt, CreatedAt: r.CreatedAt, StartedAt: r.StartedAt, CompletedAt: r.CompletedAt,
	}
	result, _ := r.Context["result"].(map[string]any)
	for _, c := range objects(result["checks"]) {
		rv.Checks = append(rv.Checks, views.CheckView{
			Name: Str(c, "name"), Title: Str(c, "title"), Status: Str(c, "status"), Message: Str(c, "message"),
			RemediationURL: Str(c, "remediation_url"), Permission: Str(c, "permission"),
		})
	}
	for _, it := range objects(result["items"]) {
		rv.Items = append(rv.Items, views.ItemView{Name: Str(it, "name"), Status: Str(it, "status"), Message: Str(it, "message")})
	}
	return rv
}

// maxResultEntries bounds how many checks or items a page lists.
const maxResultEntries = 500

// objects returns the JSON objects of a JSON array; anything else yields none.
func objects(v any) []map[string]any {
	list, _ := v.([]any)
	var out []map[string]any
	for _, e := range list {
		if m, ok := e.(map[string]any); ok {
			out = append(out, m)
			if len(out) == maxResultEntries {
				break
			}
		}
	}
	return out
}

// str is m[key] when it is a string, else "".
func Str(m map[string]any, key string) string {
	s, _ := m[key].(string)
	return s
}

// DraftRowView maps a draft snapshot to its row in the drafts list (live view "row").
func DraftRowView(snap onboarding.Snapshot) views.DraftRow {
	d := snap.Draft
	return views.DraftRow{
		ID: d.ID, Workspace: d.Workspace, TenantID: d.TenantID, DisplayName: d.DisplayName,
		PrimaryDomain: d.PrimaryDomain, Lifecycle: string(d.Lifecycle), Checkpoint: string(d.CurrentCheckpoint),
		ReasonCode: string(d.ReasonCode), Version: d.Version, Rev: snap.Rev(),
		UpdatedBy: ActorName(d.UpdatedBy), UpdatedAt: d.UpdatedAt,
	}
}

// RunPanelView maps one run and its draft's snapshot to the run panel (live view
// "run:<id>"). The run may be older than the snapshot's runs; its rev still counts.
func RunPanelView(snap onboarding.Snapshot, run operation.Run) views.RunPanelData {
	d := snap.Draft
	tenant := d.DisplayName
	if tenant == "" {
		tenant = d.TenantID
	}
	return views.RunPanelData{
		Workspace: d.Workspace, Run: RunView(run), DraftID: d.ID, Version: d.Version,
		Rev: max(snap.Rev(), run.Rev), Lifecycle: string(d.Lifecycle),
		UpdatedBy: ActorName(d.UpdatedBy), UpdatedAt: d.UpdatedAt,
		Tenant: tenant, PrimaryDomain: d.PrimaryDomain,
	}
}

// RenderCheckpoint writes the checkpoint fragment of a draft snapshot for the cohort of role.
// It is a pure function of its inputs, so the live hub renders it once per cohort.
func RenderCheckpoint(ctx context.Context, w io.Writer, snap onboarding.Snapshot, role access.Role, step int) error {
	return views.Checkpoint(CheckpointView(snap, access.For(role), step)).Render(ctx, w)
}

// RenderDraftRow writes the drafts-list row of a draft snapshot; it is the same for every
// cohort.
func RenderDraftRow(ctx context.Context, w io.Writer, snap onboarding.Snapshot) error {
	return views.DraftRowView(DraftRowView(snap)).Render(ctx, w)
}

// runOf is the snapshot's run runID, or fault.ErrNotFound.
func runOf(snap onboarding.Snapshot, runID string) (operation.Run, error) {
	for _, r := range snap.Runs {
		if r.ID == runID {
			return r, nil
		}
	}
	return operation.Run{}, fmt.Errorf("run %s of draft %s: %w", runID, snap.Draft.ID, fault.ErrNotFound)
}

// RenderRunPanel writes the panel of run runID, which must be one of the snapshot's runs
// (else fault.ErrNotFound); it is the same for every cohort.
func RenderRunPanel(ctx context.Context, w io.Writer, snap onboarding.Snapshot, runID string) error {
	r, err := runOf(snap, runID)
	if err != nil {
		return err
	}
	return views.RunPanel(RunPanelView(snap, r)).Render(ctx, w)
}

// RenderOperationRow writes run runID's row of the operations list (live view
// "oprow:<id>"), which must be one of the snapshot's runs (else fault.ErrNotFound); it
// is the same for every cohort.
func RenderOperationRow(ctx context.Context, w io.Writer, snap onboarding.Snapshot, runID string) error {
	r, err := runOf(snap, runID)
	if err != nil {
		return err
	}
	d := snap.Draft
	rv := RunView(r)
	rv.Checks, rv.Items = nil, nil
	row := views.OperationRow{Run: rv, DraftID: d.ID, Tenant: FirstNonEmpty(d.DisplayName, d.TenantID), Live: true,
		Version: d.Version, Rev: max(snap.Rev(), r.Rev), Lifecycle: string(d.Lifecycle)}
	return views.OperationRowView(d.Workspace, row).Render(ctx, w)
}

// RenderFragment writes the live view of a draft snapshot for a cohort (a role name, see
// access.Cohort): "checkpoint" (the current checkpoint's step), "checkpoint:N" (step N, as a
// tab shows it), "row" or "run:<id>". The live hub's Source.Render calls it.
func RenderFragment(ctx context.Context, w io.Writer, snap onboarding.Snapshot, view, cohort string) error {
	if view == "" {
		view = live.ViewCheckpoint
	}
	v, err := live.ParseView(view)
	if err != nil {
		return fmt.Errorf("render: unknown view %q", view)
	}
	switch v.Kind {
	case live.ViewCheckpoint:
		role, err := access.ParseRole(cohort)
		if err != nil {
			return fmt.Errorf("render checkpoint: %w", err)
		}
		return RenderCheckpoint(ctx, w, snap, role, v.Step)
	case live.ViewRow:
		return RenderDraftRow(ctx, w, snap)
	case live.ViewRun:
		return RenderRunPanel(ctx, w, snap, v.RunID)
	case live.ViewOpRow:
		return RenderOperationRow(ctx, w, snap, v.RunID)
	}
	return fmt.Errorf("render: unknown view %q", view)
}

// FirstNonEmpty is the first of ss that is not "" (a tenant's name, else its id).
func FirstNonEmpty(ss ...string) string {
	for _, s := range ss {
		if s != "" {
			return s
		}
	}
	return ""
}
