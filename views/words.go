package views

import (
	"github.com/tenantops/onboard/internal/onboarding"
	"github.com/tenantops/onboard/internal/operation"
)

// The words operators read for machine codes. Like the badges in badges.templ, every page and
// fragment takes them from here so one code always reads the same.

var reasonTexts = map[string]string{
	// Terminal states.
	"onboarding_cancelled":         "Onboarding was cancelled.",
	"onboarding_completed":         "Onboarding is complete; the tenant is active.",
	"activated_with_override":      "Activated with an owner override.",
	"draft_closed":                 "This onboarding is completed or cancelled; it can no longer be changed.",
	"run_not_retryable":            "Only a failed or cancelled operation can be retried.",
	"run_already_active":           "An operation of this kind is already queued or running for this tenant.",
	"run_active_elsewhere":         "An operation of the same kind is still running for this tenant from an earlier onboarding; start again when it has finished.",
	"last_owner":                   "A workspace needs at least one owner: make someone else an owner first.",
	"invitation_accepted":          "That invitation has been accepted already: the person is a member now.",
	"invitation_revoked":           "That invitation was revoked already.",
	"not_ready_for_activation":     "Only an onboarding that is ready for activation can have its activation requested.",
	"activation_already_requested": "Activation was already requested: the workspace's owners have been notified.",

	// Identify and connect.
	"identify_incomplete":         "Tenant details are incomplete: tenant ID, display name and primary domain are required.",
	"provider_connection_missing": "No provider connection is attached yet.",

	// Verification.
	"verification_not_started":         "Access has not been verified yet.",
	"verification_outdated":            "The connection changed after the last verification; verify access again.",
	"verification_in_progress":         "Access verification is running.",
	"verification_failed":              "Access verification failed.",
	"verification_cancelled":           "Access verification was cancelled; start it again.",
	"verification_partially_succeeded": "Access verification passed only in part.",
	"verification_required":            "Access must be verified with the current connection.",
	"verification_unanswered":          "Verification got no answer from the provider, so nothing was checked; run it again.",

	// Bootstrap and activation.
	"bootstrap_in_progress":         "Bootstrap operations are running.",
	"bootstrap_skipped":             "No bootstrap operations selected; bootstrap is optional, activation can go ahead.",
	"bootstrap_not_started":         "Selected bootstrap operations have not run yet.",
	"bootstrap_failed":              "A bootstrap operation failed.",
	"bootstrap_partially_succeeded": "Bootstrap finished with some items failed.",
	"bootstrap_incomplete":          "Bootstrap is incomplete: some items failed.",
	"ready_for_activation":          "Ready for activation.",

	// Run failure reasons reported by the provider.
	"missing_permissions":  "The app registration lacks required Microsoft Graph permissions.",
	"consent_missing":      "An administrator has not granted consent to the app in the tenant.",
	"invalid_credentials":  "The client ID or client secret was rejected.",
	"provider_unreachable": "The provider could not be reached.",
	"provider_timeout":     "The provider did not answer in time.",
	"provider_error":       "The provider returned an error.",
	"worker_lost":          "The worker running this operation stopped before it finished.",
}

// ReasonText is the sentence operators read for a reason code (reason_code, blocking_reason_code
// or a run's reason). An unknown code is returned as it is, so nothing is ever hidden; "" gives "".
func ReasonText(code string) string {
	if t, ok := reasonTexts[code]; ok {
		return t
	}
	return code
}

var operationNames = map[string]string{
	operation.OpInventorySync:    "Inventory sync",
	operation.OpPolicySync:       "Policy sync",
	operation.OpBaselineSnapshot: "Baseline snapshot",
}

var operationHints = map[string]string{
	operation.OpInventorySync:    "Imports the tenant's managed devices.",
	operation.OpPolicySync:       "Imports configuration and compliance policies.",
	operation.OpBaselineSnapshot: "Records the current configuration as the baseline to compare against later.",
}

// OperationName is the human name of a bootstrap operation ("inventory_sync" → "Inventory sync").
func OperationName(op string) string {
	if n, ok := operationNames[op]; ok {
		return n
	}
	return op
}

// RunTypeText is the human name of a run type: "verify_access" → "Access verification",
// "bootstrap.policy_sync" → "Policy sync"; "bootstrap" (a bootstrap's runs together) →
// "Bootstrap".
func RunTypeText(t string) string {
	switch typ := operation.Type(t); {
	case typ == operation.TypeVerifyAccess:
		return "Access verification"
	case t == "bootstrap":
		return "Bootstrap"
	case typ.IsBootstrap():
		return OperationName(typ.Operation())
	}
	return t
}

// RunTypeFullText names a run type where it stands alone (the audit log's details): a
// bootstrap operation's run says it is part of a bootstrap ("Bootstrap: Policy sync").
func RunTypeFullText(t string) string {
	if operation.Type(t).IsBootstrap() {
		return "Bootstrap: " + RunTypeText(t)
	}
	return RunTypeText(t)
}

// runTypes lists the run types offered as a monitoring filter: the domain's, in its order.
var runTypes = func() []string {
	var out []string
	for _, t := range operation.Types() {
		out = append(out, string(t))
	}
	return out
}()

// stepTitles are the five wizard steps, one per checkpoint.
var stepTitles = [5]string{"Identify tenant", "Connect provider", "Verify access", "Bootstrap", "Activate"}

// panelIDs name each step's panel (data-testid "panel-<id>").
var panelIDs = [5]string{"identify", "connection", "verify", "bootstrap", "activate"}

// assistAdvice tells operators how to fix a failed verification, per run reason code.
var assistAdvice = map[string]string{
	"missing_permissions":  "In the tenant's Microsoft Entra admin center, open the app registration, add each permission below under API permissions as an application permission, then select Grant admin consent. Run verification again afterwards.",
	"consent_missing":      "A Global Administrator of the tenant must grant admin consent to the app registration (Enterprise applications → Permissions → Grant admin consent). Run verification again afterwards.",
	"invalid_credentials":  "Check the client ID and create a new client secret in the app registration, then replace the connection in step 2 and run verification again.",
	"provider_unreachable": "This is usually temporary. Run verification again in a few minutes; if it keeps failing, check the tenant ID and primary domain.",
	"provider_timeout":     "The provider did not answer, so nothing was checked and this cannot be overridden. Run verification again.",
	"provider_error":       "The provider answered with an error, so nothing was checked and this cannot be overridden. Run verification again; if it keeps failing, check the connection.",
	"worker_lost":          "The verification stopped before it got an answer, so nothing was checked and this cannot be overridden. Run verification again.",
}

// AssistAdvice is the remediation advice for a verification failure reason, or a generic
// sentence for other codes.
func AssistAdvice(code string) string {
	if a, ok := assistAdvice[code]; ok {
		return a
	}
	return "Fix the failed checks below in the tenant, then run verification again."
}

// assistAdviceFor is the advice for a troubled run: by its reason, or, for a failure with no
// reason and no failed check, the advice for a verification that got no answer.
func assistAdviceFor(r RunView) string {
	if r.ReasonCode == "" {
		answered := false
		for _, c := range r.Checks {
			answered = answered || c.Status == "failed" || c.Status == "warning"
		}
		if !answered {
			return "The verification ended without an answer from the provider, so nothing was checked and this cannot be overridden. Run verification again."
		}
	}
	return AssistAdvice(r.ReasonCode)
}

// checkpointStep is the wizard step (1..5) of a checkpoint, 0 for none or unknown: the
// domain's rule (onboarding.Checkpoint.Step), not a copy.
func checkpointStep(c string) int { return onboarding.Checkpoint(c).Step() }

// overridable is the domain's override rule (onboarding.ReasonCode.Overridable): an owner may
// accept these activation blockers with a recorded reason.
func overridable(code string) bool { return onboarding.ReasonCode(code).Overridable() }

// StepTitle is the title of wizard step n (1–5), "" for any other n.
func StepTitle(n int) string {
	if n < 1 || n > len(stepTitles) {
		return ""
	}
	return stepTitles[n-1]
}
