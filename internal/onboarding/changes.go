package onboarding

import (
	"context"
	"maps"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/tenantops/onboard/internal/access"
)

// Fields an operator edits, as the audit trail and conflict reports name them.
const (
	FieldDisplayName         = "display_name"
	FieldPrimaryDomain       = "primary_domain"
	FieldProviderConnection  = "provider_connection"
	FieldBootstrapOperations = "bootstrap_operations"
	FieldCurrentStep         = "current_step"
	FieldBootstrapSkipped    = "bootstrap_skipped"
)

// Change is one thing that happened to a draft since a version, read back from the audit
// trail: either one field an operator's write changed (Field set, Old → New as operators read
// them: a connection by its client id, never its secret; operations comma-separated), or an
// action that moved the draft without editing a field (Field empty: a verification started,
// a run completed, a cancellation).
type Change struct {
	Version  int64  // the draft version the write produced
	Action   string // audit action, e.g. ActionDraftUpdated
	Field    string // one of the Field* constants, "" for an action
	Old, New string
	By       string // email of the author, "" for the system
	At       time.Time
}

// ChangeStore reads a draft's changes from the audit trail. *postgres.Store implements it.
type ChangeStore interface {
	// DraftChanges lists the draft's audited changes that produced a version greater than
	// since, oldest first, at most limit entries.
	DraftChanges(ctx context.Context, draftID string, since int64, limit int) ([]Change, error)
}

// MaxChanges bounds one conflict report: beyond it the operator is better served by a reload.
const MaxChanges = 100

// Changes lists what changed in draft id after version since, for the member: who changed
// which field from what to what, and which actions moved the draft. Not found / forbidden
// follow the usual precedence.
func (s *Service) Changes(ctx context.Context, m access.Member, id string, since int64) ([]Change, error) {
	cs, ok := s.store.(ChangeStore)
	if !ok {
		return nil, nil
	}
	if _, err := s.Get(ctx, m, id); err != nil {
		return nil, err
	}
	return cs.DraftChanges(ctx, id, since, MaxChanges)
}

// fieldDiff is the audit metadata of one changed field.
func fieldDiff(old, new string) map[string]any { return map[string]any{"old": old, "new": new} }

// operationsText is a bootstrap selection as the audit trail records it.
func operationsText(ops []string) string { return strings.Join(slices.Clone(ops), ",") }

func stepText(n int) string { return strconv.Itoa(n) }

// ChangesFromMetadata decodes one audit entry's metadata into Changes: one per entry of its
// "fields" object (sorted by field), or a single action Change when it has none. Metadata
// that is not of the expected shape yields the action alone: a damaged row never hides that
// something happened.
func ChangesFromMetadata(action string, meta map[string]any, by string, at time.Time) []Change {
	var version int64
	if after, ok := meta["after"].(map[string]any); ok {
		switch v := after["version"].(type) {
		case float64:
			version = int64(v)
		case int64:
			version = v
		}
	}
	base := Change{Version: version, Action: action, By: by, At: at}
	fields, _ := meta["fields"].(map[string]any)
	var out []Change
	for _, f := range slices.Sorted(maps.Keys(fields)) {
		d, ok := fields[f].(map[string]any)
		if !ok {
			continue
		}
		c := base
		c.Field = f
		c.Old, _ = d["old"].(string)
		c.New, _ = d["new"].(string)
		out = append(out, c)
	}
	if len(out) == 0 {
		out = append(out, base)
	}
	return out
}
