package presenter

import (
	"encoding/json"
	"maps"
	"slices"
	"strconv"
	"strings"

	"github.com/tenantops/onboard/internal/account"
	"github.com/tenantops/onboard/internal/invitation"
	"github.com/tenantops/onboard/internal/membership"
	"github.com/tenantops/onboard/internal/onboarding"
	"github.com/tenantops/onboard/views"
)

// AuditActions are the actions the filter offers, as operators read them. Entries with other
// actions still show (their code in words).
var AuditActions = []views.AuditAction{
	{Value: "onboarding.", Label: "Any onboarding action"},
	{Value: onboarding.ActionDraftCreated, Label: "Onboarding started"},
	{Value: onboarding.ActionDraftUpdated, Label: "Details saved"},
	{Value: onboarding.ActionVerificationStarted, Label: "Verification started"},
	{Value: onboarding.ActionBootstrapStarted, Label: "Bootstrap started"},
	{Value: onboarding.ActionActivated, Label: "Tenant activated"},
	{Value: onboarding.ActionActivationOverridden, Label: "Activation blockers overridden"},
	{Value: onboarding.ActionActivationRequested, Label: "Activation requested"},
	{Value: onboarding.ActionCancelled, Label: "Onboarding cancelled"},
	{Value: onboarding.ActionRunCompleted, Label: "Operation finished"},
	{Value: "workspace.member.", Label: "Any member change"},
	{Value: membership.ActionAdded, Label: "Member added"},
	{Value: membership.ActionRoleChanged, Label: "Member role changed"},
	{Value: membership.ActionRemoved, Label: "Member removed"},
	{Value: "workspace.invitation.", Label: "Any invitation"},
	{Value: invitation.ActionCreated, Label: "Invitation sent"},
	{Value: invitation.ActionRevoked, Label: "Invitation revoked"},
	{Value: invitation.ActionAccepted, Label: "Invitation accepted"},
	{Value: "security.", Label: "Any security event"},
	{Value: account.ActionSignedIn, Label: "Signed in"},
	{Value: account.ActionSignInFailed, Label: "Failed sign-in"},
	{Value: account.ActionSignedOut, Label: "Signed out"},
	{Value: account.ActionPasswordChanged, Label: "Password changed"},
	{Value: account.ActionPasswordRefused, Label: "Failed password change"},
	{Value: account.ActionSessionsEnded, Label: "Other sessions signed out"},
}

// AuditLabel is an action in words.
func AuditLabel(action string) string {
	for _, a := range AuditActions {
		if a.Value == action {
			return a.Label
		}
	}
	words := strings.NewReplacer(".", " ", "_", " ").Replace(action)
	if words == "" {
		return "—"
	}
	return strings.ToUpper(words[:1]) + words[1:]
}

// auditFieldLabels names the fields audit entries record changes of.
var auditFieldLabels = map[string]string{
	onboarding.FieldDisplayName:         "Display name",
	onboarding.FieldPrimaryDomain:       "Primary domain",
	onboarding.FieldProviderConnection:  "Client ID",
	onboarding.FieldBootstrapOperations: "Operations",
	onboarding.FieldCurrentStep:         "Resume step",
	onboarding.FieldBootstrapSkipped:    "Bootstrap skipped",
	"role":                              "Role",
}

// auditDetailLabels names the other metadata keys shown, in this order.
var auditDetailLabels = []struct{ key, label string }{
	{"tenant_id", "Tenant ID"}, {"email", "Member"}, {"role", "Role"}, {"type", "Operation"},
	{"outcome", "Outcome"}, {"reason_code", "Reason"}, {"operations", "Operations"},
	{"override_reason", "Override reason"}, {"lifted_blockers", "Blockers accepted"},
	{"run_ids", "Runs started"}, {"cancelled_run_ids", "Queued runs cancelled"}, {"attempt", "Attempt"},
	{"retry_of", "Retry of run"}, {"sessions_ended", "Sessions signed out"}, {"address", "Address"}, {"user_agent", "Browser"},
}

// AuditEntry turns a stored entry into what the page shows: the action in words, the tenant
// it is about with a link, field changes as old → new and other facts in words. The metadata
// is JSON written by the services; anything of an unexpected shape is left out.
func AuditEntry(ws string, e onboarding.AuditRecord) views.AuditEntry {
	v := views.AuditEntry{ID: e.ID, Actor: e.Actor, Action: e.Action, Label: AuditLabel(e.Action), At: e.At, Subject: e.Tenant}
	var meta map[string]any
	_ = json.Unmarshal([]byte(e.Metadata), &meta)
	switch {
	case e.SubjectType == onboarding.SubjectRun && e.DraftID != "":
		v.SubjectURL = views.RunURL(ws, e.SubjectID)
	case e.DraftID != "":
		v.SubjectURL = views.DraftURL(ws, e.DraftID)
	case e.SubjectType == membership.SubjectUser, e.SubjectType == invitation.SubjectInvitation:
		v.Subject, _ = meta["email"].(string)
	}
	if v.Subject == "" && e.DraftID != "" {
		v.Subject = "Unnamed tenant"
	}
	if fields, ok := meta["fields"].(map[string]any); ok {
		for _, k := range slices.Sorted(maps.Keys(fields)) { // fields shadows on purpose: only a map is read
			d, ok := fields[k].(map[string]any)
			if !ok {
				continue
			}
			label := auditFieldLabels[k]
			if label == "" {
				label = k
			}
			old, _ := d["old"].(string)
			nw, _ := d["new"].(string)
			if k == onboarding.FieldBootstrapOperations {
				old, nw = OperationList(old), OperationList(nw)
			}
			v.Changes = append(v.Changes, views.AuditChange{Label: label, Old: old, New: nw})
		}
	}
	before, _ := meta["before"].(map[string]any)
	after, _ := meta["after"].(map[string]any)
	if b, a := Str(before, "lifecycle_state"), Str(after, "lifecycle_state"); a != "" && b != a {
		v.Changes = append(v.Changes, views.AuditChange{Label: "Status", Old: views.LifecycleBadge(b).Label, New: views.LifecycleBadge(a).Label})
	}
	fields, _ := meta["fields"].(map[string]any)
	for _, d := range auditDetailLabels {
		if _, isField := fields[d.key]; isField {
			continue
		}
		if val := detailText(d.key, meta[d.key]); val != "" {
			v.Details = append(v.Details, views.AuditDetail{Label: d.label, Value: val})
		}
	}
	return v
}

// detailText is one metadata value in words: strings and numbers as they are, lists counted
// or joined, reason codes and operations in their operator wording.
func detailText(key string, v any) string {
	switch x := v.(type) {
	case string:
		switch key {
		case "reason_code":
			return views.ReasonText(x)
		case "type":
			return views.RunTypeFullText(x)
		case "user_agent":
			return views.BrowserName(x)
		}
		return x
	case float64:
		return strconv.FormatFloat(x, 'f', -1, 64)
	case []any:
		if len(x) == 0 {
			return ""
		}
		if strings.HasSuffix(key, "run_ids") {
			return strconv.Itoa(len(x))
		}
		var parts []string
		for _, e := range x {
			if s, ok := e.(string); ok {
				switch key {
				case "lifted_blockers":
					s = strings.TrimSuffix(views.ReasonText(s), ".")
				case "operations":
					s = views.OperationName(s)
				}
				parts = append(parts, s)
			}
		}
		return strings.Join(parts, "; ")
	}
	return ""
}
