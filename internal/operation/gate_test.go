package operation

import (
	"errors"
	"testing"
)

func TestStartRequestCheck(t *testing.T) {
	t.Parallel()
	bootstrap := Type("bootstrap.inventory_sync")
	ready := func(typ Type) StartRequest {
		return StartRequest{Type: typ, HasCapability: true, DraftOpen: true, HasConnection: true, VerificationSucceeded: true}
	}
	with := func(r StartRequest, f func(*StartRequest)) StartRequest { f(&r); return r }
	tests := []struct {
		name     string
		req      StartRequest
		wantCode string
		wantErr  error
	}{
		{"VerifyOK", ready(TypeVerifyAccess), "", nil},
		{"VerifyOKWithoutPriorVerification", with(ready(TypeVerifyAccess), func(r *StartRequest) { r.VerificationSucceeded = false }), "", nil},
		{"BootstrapOK", ready(bootstrap), "", nil},
		{"ErrUnknownType", ready("bootstrap.nope"), "", ErrUnknownType},
		{"ErrUnknownTypeEmpty", ready(""), "", ErrUnknownType},
		{"ErrNoCapability", with(ready(TypeVerifyAccess), func(r *StartRequest) { r.HasCapability = false }), "", ErrNoCapability},
		{"ErrNoCapabilityBeforeDraftState", StartRequest{Type: bootstrap}, "", ErrNoCapability},
		{"DraftClosed", with(ready(TypeVerifyAccess), func(r *StartRequest) { r.DraftOpen = false }), ReasonDraftClosed, ErrNotReady},
		{"DraftClosedWinsOverConnection", with(ready(bootstrap), func(r *StartRequest) { r.DraftOpen, r.HasConnection = false, false }), ReasonDraftClosed, ErrNotReady},
		{"VerifyWithoutConnection", with(ready(TypeVerifyAccess), func(r *StartRequest) { r.HasConnection = false }), ReasonProviderConnectionMissing, ErrNotReady},
		{"BootstrapWithoutConnection", with(ready(bootstrap), func(r *StartRequest) { r.HasConnection = false; r.VerificationSucceeded = false }), ReasonProviderConnectionMissing, ErrNotReady},
		{"BootstrapBeforeVerification", with(ready(bootstrap), func(r *StartRequest) { r.VerificationSucceeded = false }), ReasonVerificationRequired, ErrNotReady},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			code, err := tt.req.Check()
			if code != tt.wantCode {
				t.Errorf("Check(%+v) code = %q, want %q", tt.req, code, tt.wantCode)
			}
			if tt.wantErr == nil && err != nil || tt.wantErr != nil && !errors.Is(err, tt.wantErr) {
				t.Errorf("Check(%+v) err = %v, want %v", tt.req, err, tt.wantErr)
			}
		})
	}
}
