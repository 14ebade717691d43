package operation

import "errors"

// ErrRunFinished is returned when a worker asks to begin or report on a run that is already
// completed (cancelled or rescued meanwhile): the job ends quietly.
var ErrRunFinished = errors.New("operation run already completed")

// Completion is a run's terminal result, as recorded by the operation-run service.
type Completion struct {
	Outcome    Outcome
	ReasonCode string         // e.g. missing_permissions; "" when none
	Counts     Counts         // final summary counts
	Result     map[string]any // report (checks) or bootstrap items; already redacted, never secrets
	Message    string         // short human summary, already redacted
}
