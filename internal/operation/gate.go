package operation

import (
	"errors"
	"fmt"
)

// Errors returned by StartRequest.Check. Callers map ErrNoCapability to 403 and ErrNotReady
// to 409 with the returned reason code.
var (
	ErrNoCapability = errors.New("missing capability to start run")
	ErrNotReady     = errors.New("run cannot start yet")
	ErrUnknownType  = errors.New("unknown run type")
)

// Reason codes returned by StartRequest.Check with ErrNotReady.
const (
	// ReasonDraftClosed: the draft is cancelled or completed; nothing starts on it any more.
	ReasonDraftClosed = "draft_closed"
	// ReasonProviderConnectionMissing: no provider connection is attached to the draft.
	ReasonProviderConnectionMissing = "provider_connection_missing"
	// ReasonVerificationRequired: bootstrap needs a succeeded verification first.
	ReasonVerificationRequired = "verification_required"
)

// GateReasons lists every reason code StartRequest.Check refuses a start with.
var GateReasons = []string{ReasonDraftClosed, ReasonProviderConnectionMissing, ReasonVerificationRequired}

// StartRequest is what the start gate needs to know to decide whether a run of Type may be
// queued. The caller fills it from the draft and the actor's capabilities inside the same
// transaction that inserts the run, so the answer cannot go stale before the insert.
type StartRequest struct {
	Type                  Type
	HasCapability         bool // the actor holds the start capability for Type
	DraftOpen             bool // the draft is neither cancelled nor completed
	HasConnection         bool // a provider connection is attached to the draft
	VerificationSucceeded bool // the draft's latest verification run completed successfully
}

// Check applies the start gate. It returns ("", nil) when the run may start. Otherwise the
// error wraps one of:
//
//   - ErrUnknownType (code ""): Type is not a known run type.
//   - ErrNoCapability (code ""): the actor lacks the capability; checked before anything
//     about the draft so that a forbidden caller learns nothing about its state.
//   - ErrNotReady with code ReasonDraftClosed, then ReasonProviderConnectionMissing (for
//     verification and bootstrap alike: both call the provider), then, for bootstrap only,
//     ReasonVerificationRequired. The first failing rule wins.
func (r StartRequest) Check() (code string, err error) {
	if _, err := ParseType(string(r.Type)); err != nil {
		return "", fmt.Errorf("%w: %q", ErrUnknownType, r.Type)
	}
	if !r.HasCapability {
		return "", fmt.Errorf("%w: %s", ErrNoCapability, r.Type)
	}
	notReady := func(code string) (string, error) {
		return code, fmt.Errorf("%w: %s: %s", ErrNotReady, r.Type, code)
	}
	if !r.DraftOpen {
		return notReady(ReasonDraftClosed)
	}
	if !r.HasConnection {
		return notReady(ReasonProviderConnectionMissing)
	}
	if r.Type.IsBootstrap() && !r.VerificationSucceeded {
		return notReady(ReasonVerificationRequired)
	}
	return "", nil
}
