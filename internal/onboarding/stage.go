package onboarding

// Stage is what the wizard shows: the step to open and, per step (index step-1), whether it may
// be opened, is done, or shows a blocker.
type Stage struct {
	Step      int
	Reachable [Steps]bool
	Done      [Steps]bool
	Blocked   [Steps]bool
}

// ResolveStage resolves the stored current_step against the evaluation. Steps up to and
// including the current checkpoint's are reachable; a stored step beyond them (or out of range)
// is clamped to the current checkpoint's step, a step before it is kept so operators can go back
// and review. Cancelled and completed drafts can be read at every step.
func ResolveStage(e Evaluation, currentStep int) Stage {
	var s Stage
	last := max(e.Current.Step(), 1)
	if e.Lifecycle.Terminal() {
		last = Steps
	}
	for i := range Steps {
		s.Reachable[i] = i < last
		s.Done[i] = i < e.LastCompleted.Step()
	}
	if e.Lifecycle == LifecycleCompleted {
		s.Done = [Steps]bool{true, true, true, true, true}
	}
	if cur := e.Current.Step(); cur > 0 && !e.Lifecycle.Terminal() &&
		(e.Blocking != ReasonNone || e.Lifecycle == LifecycleActionRequired) {
		s.Blocked[cur-1] = true
	}
	switch {
	case currentStep < 1 || currentStep > last:
		s.Step = min(max(e.Current.Step(), 1), last)
	default:
		s.Step = currentStep
	}
	return s
}
