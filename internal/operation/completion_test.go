package operation

import (
	"errors"
	"strings"
	"testing"
)

func TestCompletionValidate(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		c    Completion
		want error // nil: valid; errAny: some error
	}{
		{"OK", Completion{Outcome: OutcomeFailed, ReasonCode: "missing_permissions", Counts: Counts{Total: 2, Failed: 2}}, nil},
		{"NoOutcome", Completion{}, ErrIllegalTransition},
		{"UnknownOutcome", Completion{Outcome: "exploded"}, errAny},
		{"BadCounts", Completion{Outcome: OutcomeSucceeded, Counts: Counts{Total: 1, Succeeded: 2}}, ErrInvalidCounts},
		{"ReasonNotSnakeCase", Completion{Outcome: OutcomeFailed, ReasonCode: "Missing-Perms"}, errAny},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			err := tc.c.Validate()
			switch {
			case tc.want == nil && err != nil:
				t.Errorf("Validate() = %v; want nil", err)
			case tc.want == errAny && err == nil, tc.want != nil && tc.want != errAny && !errors.Is(err, tc.want):
				t.Errorf("Validate() = %v; want %v", err, tc.want)
			}
		})
	}
}

var errAny = errors.New("any error")

func TestCompletionRedacted(t *testing.T) {
	t.Parallel()
	const secret = "client_secret=Xy9Q~abcdefghijklmnopqrstuvwxyz0123456789"
	c := Completion{Outcome: OutcomeFailed, Message: "GET /x?" + secret,
		Result: map[string]any{"checks": []map[string]string{{"message": secret}}, "n": 3}}
	got, err := c.Redacted()
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(got.Message, "Xy9Q") || !strings.Contains(got.Message, Redacted) {
		t.Errorf("Message = %q; want the secret redacted", got.Message)
	}
	checks, _ := got.Result["checks"].([]any)
	first, _ := checks[0].(map[string]any)
	if msg, _ := first["message"].(string); strings.Contains(msg, "Xy9Q") || len(checks) != 1 {
		t.Errorf("Result = %v; want the nested secret redacted", got.Result)
	}
	if got.Result["n"] != float64(3) {
		t.Errorf("Result[n] = %v; want 3 (a JSON number)", got.Result["n"])
	}
	if none, err := (Completion{Outcome: OutcomeSucceeded}).Redacted(); err != nil || none.Result == nil {
		t.Errorf("nil result → %v, %v; want an empty object", none.Result, err)
	}
}
