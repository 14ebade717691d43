package onboarding

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/tenantops/onboard/internal/access"
	"github.com/tenantops/onboard/internal/fault"
	"github.com/tenantops/onboard/internal/operation"
)

// Service is the versioned mutation path of onboarding drafts: the only writer of drafts and
// of runs' queued/cancelled states (workers move runs through the operation-run service).
//
// Every write is one transaction: lock the draft row, check the caller's expected version,
// apply the change, re-evaluate the lifecycle from the facts read in that transaction, save
// with version+1, write an audit entry, commit. Errors follow one precedence, which the API
// relies on: fault.ErrNotFound (unknown id, or an id of another workspace) → fault.ErrForbidden (missing
// capability) → *ConflictError (stale version) → *ValidationError / *BlockedError.
type Service struct {
	store Store
	clock func() time.Time
}

// NewService returns a Service over store. clock gives the one "now" of each transaction.
func NewService(store Store, clock func() time.Time) *Service {
	if clock == nil {
		clock = time.Now
	}
	return &Service{store: store, clock: clock}
}

// CreateInput is a new draft's identify step.
type CreateInput struct{ TenantID, DisplayName, PrimaryDomain string }

// ConnectionInput creates a provider connection. ClientSecret is write-only.
type ConnectionInput struct{ ClientID, ClientSecret string }

// Patch is a partial update of a draft; nil fields are left as they are.
type Patch struct {
	DisplayName, PrimaryDomain *string
	CurrentStep                *int
	Connection                 *ConnectionInput
	BootstrapOperations        *[]string
	// SkipBootstrap records that the operator chose to skip bootstrap; it needs an empty
	// BootstrapOperations in the same patch. Selecting operations later clears it.
	SkipBootstrap bool
}

// List returns the workspace's drafts.
func (s *Service) List(ctx context.Context, m access.Member) ([]Draft, error) {
	if !m.Can(access.View) {
		return nil, fault.ErrForbidden
	}
	return s.store.Drafts(ctx, m.WorkspaceID)
}

// Get returns one draft of the member's workspace.
func (s *Service) Get(ctx context.Context, m access.Member, id string) (Draft, error) {
	d, err := s.store.Draft(ctx, id)
	if err != nil {
		return Draft{}, err
	}
	if err := access.MayView(m, d.WorkspaceID); err != nil {
		return Draft{}, viewError(err)
	}
	return d, nil
}

// viewError maps access.MayView's refusal to this package's vocabulary.
func viewError(err error) error {
	if errors.Is(err, access.ErrNotMember) {
		return fault.ErrNotFound
	}
	return fault.ErrForbidden
}

// Create starts a draft for a tenant, or resumes the tenant's open draft in the workspace
// (resumed=true, nothing changes) so a tenant never has two open drafts.
func (s *Service) Create(ctx context.Context, m access.Member, in CreateInput) (d Draft, resumed bool, err error) {
	if !m.Can(access.DraftCreate) {
		return Draft{}, false, fault.ErrForbidden
	}
	in.TenantID = NormalizeTenantID(in.TenantID)
	in.DisplayName = NormalizeDisplayName(in.DisplayName)
	in.PrimaryDomain = NormalizeDomain(in.PrimaryDomain)
	if err := ValidateIdentify(in.TenantID, in.DisplayName, in.PrimaryDomain).Err(); err != nil {
		return Draft{}, false, err
	}
	err = s.store.WithTx(ctx, func(tx Tx) error {
		now := s.clock()
		nd := Draft{
			WorkspaceID: m.WorkspaceID, TenantID: in.TenantID,
			DisplayName: in.DisplayName, PrimaryDomain: in.PrimaryDomain,
			BootstrapOperations: []string{}, State: map[string]any{},
		}
		// A new draft has no connection and no runs: its facts are its own fields.
		e := Evaluate(nd.Facts(nil, nil, nil))
		nd.Apply(e)
		nd.CurrentStep = max(e.Current.Step(), 1)
		saved, created, err := tx.CreateDraft(ctx, nd, m.User.ID, now)
		if err != nil {
			return err
		}
		d, resumed = saved, !created
		if resumed {
			return nil
		}
		return tx.Audit(ctx, AuditEntry{
			WorkspaceID: m.WorkspaceID, ActorID: m.User.ID, Action: ActionDraftCreated,
			SubjectType: SubjectDraft, SubjectID: d.ID, At: now,
			Metadata: map[string]any{"tenant_id": d.TenantID, "after": LifecycleMetadata(d)},
		})
	})
	if err != nil {
		return Draft{}, false, err
	}
	return d, resumed, nil
}

// Update applies a patch. Identify fields, the connection and the bootstrap selection can
// change only while the draft is open (else *BlockedError draft_closed); current_step may
// move on closed drafts too (they can be read at every step) but never beyond what
// ResolveStage allows. A patch that changes nothing returns the draft without a new version.
func (s *Service) Update(ctx context.Context, m access.Member, id string, expected int64, p Patch) (Draft, error) {
	var out Draft
	err := s.write(ctx, m, id, expected, []access.Capability{access.DraftEdit}, func(w *writeTx) error {
		d := &w.d
		var v ValidationError
		var changed []string
		name, domain, err := p.normalized()
		if err != nil {
			return err
		}
		editsFacts := p.DisplayName != nil || p.PrimaryDomain != nil || p.Connection != nil || p.BootstrapOperations != nil || p.SkipBootstrap
		if editsFacts && !d.Open() {
			return &BlockedError{Code: ReasonDraftClosed}
		}

		// fields records each changed field's old and new value (never a secret), so a
		// conflict can later say who changed what since an operator's version.
		meta := map[string]any{}
		fields := map[string]any{}
		if p.DisplayName != nil && name != d.DisplayName {
			fields[FieldDisplayName] = fieldDiff(d.DisplayName, name)
			d.DisplayName = name
			changed = append(changed, FieldDisplayName)
		}
		if p.PrimaryDomain != nil && domain != d.PrimaryDomain {
			fields[FieldPrimaryDomain] = fieldDiff(d.PrimaryDomain, domain)
			d.PrimaryDomain = domain
			changed = append(changed, FieldPrimaryDomain)
		}
		if p.SkipBootstrap && (p.BootstrapOperations == nil || len(*p.BootstrapOperations) > 0) {
			v.Add("bootstrap_operations", "must be empty to skip bootstrap")
			return v.Err()
		}
		if skipped := p.SkipBootstrap || d.BootstrapSkipped() && (p.BootstrapOperations == nil || len(*p.BootstrapOperations) == 0); skipped != d.BootstrapSkipped() {
			fields[FieldBootstrapSkipped] = fieldDiff(strconv.FormatBool(d.BootstrapSkipped()), strconv.FormatBool(skipped))
			d.SetBootstrapSkipped(skipped)
			changed = append(changed, FieldBootstrapSkipped)
		}
		if p.BootstrapOperations != nil && !slices.Equal(*p.BootstrapOperations, d.BootstrapOperations) {
			fields[FieldBootstrapOperations] = fieldDiff(operationsText(d.BootstrapOperations), operationsText(*p.BootstrapOperations))
			d.BootstrapOperations = slices.Clone(*p.BootstrapOperations)
			if d.BootstrapOperations == nil {
				d.BootstrapOperations = []string{}
			}
			changed = append(changed, FieldBootstrapOperations)
		}
		if p.Connection != nil {
			diff, err := w.attachConnection(ctx, *p.Connection, meta)
			if err != nil {
				return err
			}
			fields[FieldProviderConnection] = diff
			changed = append(changed, FieldProviderConnection)
		}
		// The step is checked against the evaluation after the other changes of this
		// patch, so "attach a connection and go to step 3" is one request.
		facts, err := w.tx.LoadFacts(ctx, *d)
		if err != nil {
			return err
		}
		e := Evaluate(facts)
		if p.CurrentStep != nil {
			step := *p.CurrentStep
			st := ResolveStage(e, step)
			if !st.Reachable[step-1] {
				v.Add("current_step", fmt.Sprintf("step %d is not reachable yet: the draft is at step %d (%s)",
					step, e.Current.Step(), e.Current))
				return v.Err()
			}
			if step != d.CurrentStep {
				fields[FieldCurrentStep] = fieldDiff(stepText(d.CurrentStep), stepText(step))
				d.CurrentStep = step
				changed = append(changed, FieldCurrentStep)
			}
		}
		if len(changed) == 0 && e == evaluationOf(*d) {
			out = *d
			return nil
		}
		meta["changed"] = changed
		if len(fields) > 0 {
			meta["fields"] = fields
		}
		saved, err := w.save(e, ActionDraftUpdated, meta)
		out = saved
		return err
	})
	return out, err
}

// attachConnection stores a new provider connection for the draft and attaches it, records
// the new and the previous connection ids in meta, and returns the change of client id for
// the audit trail (never the secret).
func (w *writeTx) attachConnection(ctx context.Context, in ConnectionInput, meta map[string]any) (map[string]any, error) {
	d := &w.d
	clientID := NormalizeTenantID(in.ClientID)
	previous := ""
	if d.ProviderConnectionID != "" {
		var err error
		if previous, err = w.tx.ConnectionClientID(ctx, d.ProviderConnectionID); err != nil {
			return nil, err
		}
	}
	connID, err := w.tx.CreateConnection(ctx, NewConnection{
		WorkspaceID: d.WorkspaceID, TenantID: d.TenantID,
		ClientID: clientID, Secret: in.ClientSecret,
		CreatedBy: w.m.User.ID, Now: w.now,
	})
	if err != nil {
		return nil, err
	}
	meta["provider_connection_id"] = connID
	meta["previous_provider_connection_id"] = nullable(d.ProviderConnectionID)
	d.ProviderConnectionID = connID
	return fieldDiff(previous, clientID), nil
}

// normalized validates the patch's fields one by one (a *ValidationError naming every bad
// field) and returns its display name and primary domain normalised ("" when not patched).
func (p Patch) normalized() (name, domain string, err error) {
	var v ValidationError
	if p.DisplayName != nil {
		name = NormalizeDisplayName(*p.DisplayName)
		if msg := displayNameProblem(name); msg != "" {
			v.Add("display_name", msg)
		}
	}
	if p.PrimaryDomain != nil {
		domain = NormalizeDomain(*p.PrimaryDomain)
		if msg := domainProblem(domain); msg != "" {
			v.Add("primary_domain", msg)
		}
	}
	if p.Connection != nil {
		v.Merge(validateConnection(*p.Connection))
	}
	if p.BootstrapOperations != nil {
		v.Merge(ValidateBootstrapOperations(*p.BootstrapOperations))
	}
	if p.CurrentStep != nil {
		v.Merge(ValidateStep(*p.CurrentStep))
	}
	return name, domain, v.Err()
}

// validateConnection checks a new provider connection: a GUID client id and a non-empty
// secret of at most MaxClientSecretRunes characters.
func validateConnection(c ConnectionInput) *ValidationError {
	var v ValidationError
	if !IsGUID(strings.TrimSpace(c.ClientID)) {
		v.Add("provider_connection.client_id", "must be a GUID (8-4-4-4-12 hexadecimal digits)")
	}
	switch {
	case c.ClientSecret == "":
		v.Add("provider_connection.client_secret", "is required")
	case !utf8.ValidString(c.ClientSecret):
		v.Add("provider_connection.client_secret", "must be valid UTF-8")
	case utf8.RuneCountInString(c.ClientSecret) > MaxClientSecretRunes:
		v.Add("provider_connection.client_secret", fmt.Sprintf("must be at most %d characters", MaxClientSecretRunes))
	}
	if v.Err() == nil {
		return nil
	}
	return &v
}

// StartVerification queues a verify_access run of the attached connection. When the tenant
// already has an active verification run, that run is returned (created=false) and the
// draft is not changed; the version is still checked first, so a stale caller gets a
// conflict rather than a run.
func (s *Service) StartVerification(ctx context.Context, m access.Member, id string, expected int64) (Draft, operation.Run, bool, error) {
	return s.startVerification(ctx, m, id, expected, nil)
}

// startVerification is StartVerification with extra facts for the audit entry.
func (s *Service) startVerification(ctx context.Context, m access.Member, id string, expected int64, extra map[string]any) (Draft, operation.Run, bool, error) {
	var (
		out     Draft
		run     operation.Run
		created bool
	)
	err := s.write(ctx, m, id, expected, []access.Capability{access.VerificationStart}, func(w *writeTx) error {
		facts, err := w.tx.LoadFacts(ctx, w.d)
		if err != nil {
			return err
		}
		if err := gate(operation.TypeVerifyAccess, w.d, facts); err != nil {
			return err
		}
		run, created, err = w.tx.InsertRun(ctx, NewRun{
			WorkspaceID: w.d.WorkspaceID, TenantID: w.d.TenantID, DraftID: w.d.ID,
			Type: operation.TypeVerifyAccess, InitiatorID: m.User.ID,
			ConnectionID: w.d.ProviderConnectionID, Now: w.now,
		})
		if err != nil {
			return err
		}
		if !created {
			out = w.d
			return ownRun(w.d, run)
		}
		facts, err = w.tx.LoadFacts(ctx, w.d)
		if err != nil {
			return err
		}
		meta := map[string]any{"run_id": run.ID, "provider_connection_id": w.d.ProviderConnectionID}
		maps.Copy(meta, extra)
		out, err = w.save(Evaluate(facts), ActionVerificationStarted, meta)
		return err
	})
	if err != nil {
		return Draft{}, operation.Run{}, false, err
	}
	return out, run, created, nil
}

// StartBootstrap queues one run per operation (ops; the draft's selection when empty). An
// operation that already has an active run for the tenant returns that run instead of a
// duplicate. Started operations missing from the selection are added to it. The draft gets a
// new version only when a run was created or the selection changed.
func (s *Service) StartBootstrap(ctx context.Context, m access.Member, id string, expected int64, ops []string) (Draft, []operation.Run, error) {
	d, runs, _, err := s.startBootstrap(ctx, m, id, expected, ops, false, nil)
	return d, runs, err
}

// SelectAndStartBootstrap makes ops (non-empty) the draft's exact bootstrap selection and
// queues one run per operation, in one transaction: the wizard's "Start selected operations".
// A failure leaves neither a changed selection nor runs behind. Dedupe is as for
// StartBootstrap.
func (s *Service) SelectAndStartBootstrap(ctx context.Context, m access.Member, id string, expected int64, ops []string) (Draft, []operation.Run, error) {
	if len(ops) == 0 {
		v := &ValidationError{}
		v.Add("operations", "select at least one bootstrap operation")
		return Draft{}, nil, v
	}
	d, runs, _, err := s.startBootstrap(ctx, m, id, expected, ops, true, nil)
	return d, runs, err
}

// startBootstrap queues runs for ops; replace makes ops the whole selection, else started
// operations are added to it. extra goes into the audit entry; createdIDs are the runs it
// created (the others were already active).
func (s *Service) startBootstrap(ctx context.Context, m access.Member, id string, expected int64, ops []string, replace bool, extra map[string]any) (out Draft, runs []operation.Run, createdIDs []string, err error) {
	err = s.write(ctx, m, id, expected, []access.Capability{access.BootstrapStart}, func(w *writeTx) error {
		if len(ops) == 0 {
			ops = w.d.BootstrapOperations
		}
		if err := ValidateBootstrapOperations(ops).Err(); err != nil {
			return err
		}
		if len(ops) == 0 {
			v := &ValidationError{}
			v.Add("operations", "select at least one bootstrap operation")
			return v
		}
		facts, err := w.tx.LoadFacts(ctx, w.d)
		if err != nil {
			return err
		}
		for _, op := range ops {
			typ, _ := operation.BootstrapType(op) // validated above
			if err := gate(typ, w.d, facts); err != nil {
				return err
			}
		}
		for _, op := range ops {
			typ, _ := operation.BootstrapType(op)
			run, created, err := w.tx.InsertRun(ctx, NewRun{
				WorkspaceID: w.d.WorkspaceID, TenantID: w.d.TenantID, DraftID: w.d.ID,
				Type: typ, InitiatorID: m.User.ID, ConnectionID: w.d.ProviderConnectionID, Now: w.now,
			})
			if err != nil {
				return err
			}
			if !created {
				if err := ownRun(w.d, run); err != nil {
					return err
				}
			}
			runs = append(runs, run)
			if created {
				createdIDs = append(createdIDs, run.ID)
			}
		}
		selection := slices.Clone(w.d.BootstrapOperations)
		if replace {
			selection = nil
		}
		w.d.SetBootstrapSkipped(false)
		for _, op := range ops {
			if !slices.Contains(selection, op) {
				selection = append(selection, op)
			}
		}
		selectionChanged := !slices.Equal(selection, w.d.BootstrapOperations)
		if len(createdIDs) == 0 && !selectionChanged {
			out = w.d
			return nil
		}
		w.d.BootstrapOperations = selection
		facts, err = w.tx.LoadFacts(ctx, w.d)
		if err != nil {
			return err
		}
		meta := map[string]any{"operations": ops, "run_ids": createdIDs, "selection_changed": selectionChanged}
		if selectionChanged {
			meta["fields"] = map[string]any{FieldBootstrapOperations: fieldDiff(operationsText(w.before.BootstrapOperations), operationsText(selection))}
		}
		maps.Copy(meta, extra)
		out, err = w.save(Evaluate(facts), ActionBootstrapStarted, meta)
		return err
	})
	if err != nil {
		return Draft{}, nil, nil, err
	}
	return out, runs, createdIDs, nil
}

// gate applies operation.StartRequest to a draft whose capability was already checked.
func gate(typ operation.Type, d Draft, f Facts) error {
	code, err := operation.StartRequest{
		Type:                  typ,
		HasCapability:         true,
		DraftOpen:             d.Open(),
		HasConnection:         f.Connection != nil,
		VerificationSucceeded: verificationStateOf(f) == verifySucceeded,
	}.Check()
	switch {
	case errors.Is(err, operation.ErrNotReady):
		return &BlockedError{Code: ReasonCode(code)}
	case err != nil:
		return fmt.Errorf("start gate: %w", err)
	}
	return nil
}

// Activate completes the draft when nothing blocks it. With a non-empty overrideReason (which
// needs access.Override) an owner accepts the overridable blockers; the reason is recorded
// only when it actually lifted one. Blocked → *BlockedError with the first blocker in the way.
func (s *Service) Activate(ctx context.Context, m access.Member, id string, expected int64, overrideReason string) (Draft, error) {
	need := []access.Capability{access.Activate}
	if overrideReason != "" {
		need = append(need, access.Override)
	}
	var out Draft
	err := s.write(ctx, m, id, expected, need, func(w *writeTx) error {
		reason := strings.TrimSpace(overrideReason)
		if overrideReason != "" {
			v := &ValidationError{}
			switch {
			case reason == "":
				v.Add("override_reason", "must not be blank")
			case !utf8.ValidString(reason):
				v.Add("override_reason", "must be valid UTF-8")
			case utf8.RuneCountInString(reason) > MaxOverrideReasonRunes:
				v.Add("override_reason", fmt.Sprintf("must be at most %d characters", MaxOverrideReasonRunes))
			case strings.ContainsFunc(reason, func(r rune) bool { return unicode.IsControl(r) && r != '\n' && r != '\t' }):
				v.Add("override_reason", "must not contain control characters")
			}
			if err := v.Err(); err != nil {
				return err
			}
		}
		facts, err := w.tx.LoadFacts(ctx, w.d)
		if err != nil {
			return err
		}
		e := Evaluate(facts)
		ok, blocking := CanActivate(facts, e, false)
		overridden := false
		if !ok && reason != "" {
			ok, blocking = CanActivate(facts, e, true)
			overridden = ok
		}
		if !ok {
			return &BlockedError{Code: blocking}
		}
		meta := map[string]any{"overridden": overridden}
		var lifted []ReasonCode
		if overridden {
			f := facts
			f.Overridden = true
			lifted = Readiness(f, e).Lifted
			w.d.OverrideReason = reason
			meta["lifted_blockers"] = lifted
		}
		w.d.CompletedAt = w.now
		if err := w.tx.ActivateTenant(ctx, w.d, w.now); err != nil {
			return err
		}
		// Activation changed the facts, so they are evaluated again: the draft is completed.
		facts.Overridden, facts.CompletedAt = w.d.OverrideReason != "", w.now
		out, err = w.save(Evaluate(facts), ActionActivated, meta)
		if err != nil {
			return err
		}
		title, body := out.Name()+" activated", "Activated by "+m.User.Email+"."
		if overridden {
			title, body = out.Name()+" activated with an override", "Activated by "+m.User.Email+" despite open blockers: "+reason
		}
		if err := w.notifyWorkers(NotificationActivated, title, body); err != nil {
			return err
		}
		if !overridden {
			return nil
		}
		// The override is audited on its own, with the reason an owner gave and what it
		// lifted, so it can be found without reading every activation.
		return w.tx.Audit(ctx, AuditEntry{
			WorkspaceID: w.d.WorkspaceID, ActorID: m.User.ID, Action: ActionActivationOverridden,
			SubjectType: SubjectDraft, SubjectID: w.d.ID, At: w.now,
			Metadata: map[string]any{"override_reason": reason, "lifted_blockers": lifted, "version": out.Version},
		})
	})
	return out, err
}

// Cancel cancels an open draft and its queued runs (running runs finish on their own; their
// completion no longer changes the cancelled state).
func (s *Service) Cancel(ctx context.Context, m access.Member, id string, expected int64) (Draft, error) {
	var out Draft
	err := s.write(ctx, m, id, expected, []access.Capability{access.Cancel}, func(w *writeTx) error {
		if !w.d.Open() {
			return &BlockedError{Code: ReasonDraftClosed}
		}
		cancelled, err := w.tx.CancelQueuedRuns(ctx, w.d.ID, w.now)
		if err != nil {
			return err
		}
		w.d.CancelledAt = w.now
		facts, err := w.tx.LoadFacts(ctx, w.d)
		if err != nil {
			return err
		}
		if cancelled == nil {
			cancelled = []string{}
		}
		out, err = w.save(Evaluate(facts), ActionCancelled, map[string]any{"cancelled_run_ids": cancelled})
		if err != nil {
			return err
		}
		return w.notifyWorkers(NotificationCancelled, "Onboarding of "+out.Name()+" cancelled",
			"Cancelled by "+m.User.Email+".")
	})
	return out, err
}

// RequestActivation asks the workspace's owners to activate a draft that is ready for
// activation, for a member who may not activate it (access.ActivationRequest). One
// transaction, with write's precedence (404, 403, stale version → *ConflictError), then 409
// (*BlockedError) when the draft is not ready (ReasonNotReadyForActivation) or a request is
// already open (ReasonActivationAlreadyRequested); otherwise it records the request, audits
// it and notifies every owner. It changes no field, so the version does not move (a request
// never makes someone's open form stale); the expected version only says the member asked
// about the draft they saw. The request stays open until the draft leaves
// ready_for_activation (Draft.Apply clears it).
func (s *Service) RequestActivation(ctx context.Context, m access.Member, id string, expected int64) (Draft, error) {
	var out Draft
	err := s.write(ctx, m, id, expected, []access.Capability{access.ActivationRequest}, func(w *writeTx) error {
		d := w.d
		if !d.Open() || d.Lifecycle != LifecycleReadyForActivation {
			return &BlockedError{Code: ReasonNotReadyForActivation}
		}
		if !d.ActivationRequestedAt.IsZero() {
			return &BlockedError{Code: ReasonActivationAlreadyRequested}
		}
		var err error
		if out, err = w.tx.RecordActivationRequest(ctx, d.ID, m.User.ID, w.now); err != nil {
			return err
		}
		if err := w.tx.Audit(ctx, AuditEntry{
			WorkspaceID: d.WorkspaceID, ActorID: m.User.ID, Action: ActionActivationRequested,
			SubjectType: SubjectDraft, SubjectID: d.ID, At: w.now,
			Metadata: map[string]any{"version": d.Version, "lifecycle_state": string(d.Lifecycle)},
		}); err != nil {
			return err
		}
		owners, err := w.tx.WorkspaceOwners(ctx, d.WorkspaceID)
		if err != nil {
			return err
		}
		for _, u := range owners {
			if err := w.tx.Notify(ctx, Notification{UserID: u, WorkspaceID: d.WorkspaceID,
				Kind: NotificationActivationRequested, Title: "Activation requested: " + d.Name(),
				Body: m.User.Email + " asks an owner to activate " + d.Name() + ".", DraftID: d.ID}, w.now); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return Draft{}, err
	}
	return out, nil
}

// notifyWorkers tells everyone who worked on the draft, except the member acting, how it
// ended: in the same transaction as the change, so a notice never precedes or outlives it.
func (w *writeTx) notifyWorkers(kind, title, body string) error {
	users, err := w.tx.DraftWorkers(w.ctx, w.d.ID)
	if err != nil {
		return err
	}
	for _, u := range users {
		if u == w.m.User.ID {
			continue
		}
		if err := w.tx.Notify(w.ctx, Notification{UserID: u, WorkspaceID: w.d.WorkspaceID, Kind: kind,
			Title: title, Body: body, DraftID: w.d.ID}, w.now); err != nil {
			return err
		}
	}
	return nil
}

// Runs lists a draft's runs, newest first.
func (s *Service) Runs(ctx context.Context, m access.Member, draftID string) ([]operation.Run, error) {
	if _, err := s.Get(ctx, m, draftID); err != nil {
		return nil, err
	}
	return s.store.DraftRuns(ctx, draftID, MaxRunLimit)
}

// Run returns one run of the member's workspace.
func (s *Service) Run(ctx context.Context, m access.Member, runID string) (operation.Run, error) {
	r, err := s.store.Run(ctx, runID)
	if err != nil {
		return operation.Run{}, err
	}
	if r.WorkspaceID != m.WorkspaceID {
		return operation.Run{}, fault.ErrNotFound
	}
	if !m.Can(access.View) {
		return operation.Run{}, fault.ErrForbidden
	}
	return r, nil
}

// WorkspaceRuns lists the workspace's runs for the monitoring page.
func (s *Service) WorkspaceRuns(ctx context.Context, m access.Member, f RunFilter) ([]operation.Run, error) {
	if !m.Can(access.View) {
		return nil, fault.ErrForbidden
	}
	v := &ValidationError{}
	if f.Type != "" {
		if _, err := operation.ParseType(f.Type); err != nil {
			v.Add("type", "unknown run type")
		}
	}
	if f.Status != "" {
		if _, err := operation.ParseStatus(f.Status); err != nil {
			v.Add("status", "must be queued, running or completed")
		}
	}
	if f.DraftID != "" && !IsGUID(f.DraftID) {
		v.Add("draft", "must be a draft id")
	}
	if f.Limit < 0 {
		v.Add("limit", "must not be negative")
	}
	if err := v.Err(); err != nil {
		return nil, err
	}
	if f.Limit == 0 {
		f.Limit = DefaultRunLimit
	}
	f.Limit = min(f.Limit, MaxRunLimit)
	return s.store.WorkspaceRuns(ctx, m.WorkspaceID, f)
}

// Connection describes the draft's attached provider connection (never its secret); nil
// when none is attached.
func (s *Service) Connection(ctx context.Context, m access.Member, draftID string) (*ConnectionInfo, error) {
	if _, err := s.Get(ctx, m, draftID); err != nil {
		return nil, err
	}
	return s.store.DraftConnection(ctx, draftID)
}

// writeTx is the state of one versioned write: the locked draft (being changed), the draft
// as it was, the actor and the transaction's one now.
type writeTx struct {
	ctx      context.Context
	tx       Tx
	m        access.Member
	now      time.Time
	expected int64
	before   Draft
	d        Draft
}

// write runs fn in one transaction after locking the draft and checking, in this order,
// that it belongs to the member's workspace (else fault.ErrNotFound), that the member holds every
// capability in need (else fault.ErrForbidden) and that expected is the stored version (else a
// *ConflictError and nothing changes).
func (s *Service) write(ctx context.Context, m access.Member, id string, expected int64, need []access.Capability, fn func(*writeTx) error) error {
	return s.store.WithTx(ctx, func(tx Tx) error {
		d, err := tx.LockDraft(ctx, id)
		if err != nil {
			return err
		}
		if d.WorkspaceID != m.WorkspaceID {
			return fault.ErrNotFound
		}
		for _, c := range need {
			if !m.Can(c) {
				return fault.ErrForbidden
			}
		}
		// checkVersion is a test-only switch for the linearizability test (brokenversion tag);
		// when off, the current version is passed down as the expected one so the SQL guard
		// in SaveDraft cannot save the day either.
		if !checkVersion {
			expected = d.Version
		}
		if checkVersion && d.Version != expected {
			cur := d
			return &ConflictError{CurrentVersion: d.Version, UpdatedBy: d.UpdatedBy, UpdatedAt: d.UpdatedAt, Current: &cur}
		}
		return fn(&writeTx{ctx: ctx, tx: tx, m: m, now: s.clock(), expected: expected, before: d, d: d})
	})
}

// save applies the evaluation of the draft's facts, stores the draft with version+1 and
// audits action with the lifecycle before and after. The caller evaluates (once) because it
// usually needs the evaluation itself first: to check a step, to decide whether anything
// changed.
func (w *writeTx) save(e Evaluation, action string, meta map[string]any) (Draft, error) {
	w.d.Apply(e)
	saved, err := w.tx.SaveDraft(w.ctx, w.d, w.expected, w.m.User.ID, w.now)
	if err != nil {
		return Draft{}, err
	}
	meta["before"] = LifecycleMetadata(w.before)
	meta["after"] = LifecycleMetadata(saved)
	if err := w.tx.Audit(w.ctx, AuditEntry{
		WorkspaceID: saved.WorkspaceID, ActorID: w.m.User.ID, Action: action,
		SubjectType: SubjectDraft, SubjectID: saved.ID, Metadata: meta, At: w.now,
	}); err != nil {
		return Draft{}, err
	}
	return saved, nil
}
