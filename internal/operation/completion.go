package operation

import (
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
)

// ErrRunFinished is returned when a worker asks to begin or report on a run that is already
// completed (cancelled or rescued meanwhile): the job ends quietly.
var ErrRunFinished = errors.New("operation run already completed")

// Completion is a run's terminal result, as reported by a worker to the operation-run service.
type Completion struct {
	Outcome    Outcome
	ReasonCode string         // e.g. missing_permissions; "" when none
	Counts     Counts         // final summary counts
	Result     map[string]any // report (checks) or bootstrap items; redacted again before it is stored
	Message    string         // short human summary; redacted again before it is stored
}

// reasonCodeRE is the shape of every reason code: snake_case.
var reasonCodeRE = regexp.MustCompile(`^[a-z][a-z0-9]*(_[a-z0-9]+)*$`)

// Validate reports why c cannot end a run: no or an unknown outcome (wrapping
// ErrIllegalTransition or the parse error), invalid counts (ErrInvalidCounts), or a reason
// code that is not snake_case.
func (c Completion) Validate() error {
	if c.Outcome == OutcomeNone {
		return fmt.Errorf("complete run: %w: no outcome", ErrIllegalTransition)
	}
	if _, err := ParseOutcome(string(c.Outcome)); err != nil {
		return fmt.Errorf("complete run: %w", err)
	}
	if err := c.Counts.Validate(); err != nil {
		return err
	}
	if c.ReasonCode != "" && !reasonCodeRE.MatchString(c.ReasonCode) {
		return fmt.Errorf("complete run: reason code %q is not snake_case", c.ReasonCode)
	}
	return nil
}

// Redacted returns c with its message and every string of its result passed through Redact.
// The result is round-tripped through JSON first (keys are field names and stay), so whatever
// a worker put in it, what is stored is plain JSON values with no secret-looking text.
func (c Completion) Redacted() (Completion, error) {
	out := c
	out.Message = Redact(c.Message)
	out.Result = map[string]any{}
	if c.Result == nil {
		return out, nil
	}
	b, err := json.Marshal(c.Result)
	if err != nil {
		return Completion{}, fmt.Errorf("complete run: result: %w", err)
	}
	if err := json.Unmarshal(b, &out.Result); err != nil {
		return Completion{}, fmt.Errorf("complete run: result: %w", err)
	}
	redactValue(out.Result)
	return out, nil
}

// redactValue redacts every string inside v in place and returns v.
func redactValue(v any) any {
	switch x := v.(type) {
	case string:
		return Redact(x)
	case map[string]any:
		for k, e := range x {
			x[k] = redactValue(e)
		}
	case []any:
		for i, e := range x {
			x[i] = redactValue(e)
		}
	}
	return v
}
