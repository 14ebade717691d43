package onboarding

// ReadinessReport says whether a draft may be activated now, and if not, why.
type ReadinessReport struct {
	// Ready reports that nothing blocks activation (Blockers is empty).
	Ready bool
	// Blockers lists what still blocks activation, in wizard order; its first entry is
	// the draft's blocking_reason_code when it has one.
	Blockers []ReasonCode
	// Lifted lists the overridable blockers that a recorded override (Facts.Overridden)
	// has lifted; they are not in Blockers.
	Lifted []ReasonCode
	// Overridable reports that Blockers is non-empty and every blocker may be accepted by an
	// owner with a reason (ReasonCode.Overridable).
	Overridable bool
}

// Readiness reports whether a draft with these facts and evaluation may be activated. Unlike
// Evaluate, which stops at the first unmet checkpoint, it lists every unmet one, so an override
// is offered only when nothing but overridable blockers remain.
func Readiness(f Facts, e Evaluation) ReadinessReport {
	switch e.Lifecycle {
	case LifecycleCancelled:
		return ReadinessReport{Blockers: []ReasonCode{ReasonOnboardingCancelled}}
	case LifecycleCompleted:
		return ReadinessReport{Blockers: []ReasonCode{ReasonOnboardingCompleted}}
	}
	var all []ReasonCode
	add := func(c ReasonCode) {
		if c == ReasonNone {
			return
		}
		for _, have := range all {
			if have == c {
				return
			}
		}
		all = append(all, c)
	}
	if !identifyComplete(f) {
		add(ReasonIdentifyIncomplete)
	}
	if f.Connection == nil {
		add(ReasonProviderConnectionMissing)
	}
	switch verificationStateOf(f) {
	case verifyMissing, verifyOutdated, verifyCancelled:
		add(ReasonVerificationRequired)
	case verifyActive:
		add(ReasonVerificationInProgress)
	case verifyFailed, verifyPartial:
		add(verificationBlocking(f))
	}
	switch bootstrapStateOf(f) {
	case bootActive:
		add(ReasonBootstrapInProgress)
	case bootNotStarted:
		add(ReasonBootstrapNotStarted)
	case bootFailed:
		add(ReasonBootstrapFailed)
	case bootPartial:
		add(ReasonBootstrapIncomplete)
	}
	add(e.Blocking)

	var r ReadinessReport
	for _, c := range all {
		if f.Overridden && c.Overridable() {
			r.Lifted = append(r.Lifted, c)
			continue
		}
		r.Blockers = append(r.Blockers, c)
	}
	r.Ready = len(r.Blockers) == 0
	r.Overridable = !r.Ready
	for _, c := range r.Blockers {
		r.Overridable = r.Overridable && c.Overridable()
	}
	return r
}

// CanActivate reports whether the draft may be activated now, with override telling whether
// the caller asks to override (and holds the capability and a reason). When it may not, it
// returns the first blocker that stands in the way: with override, the first one that cannot
// be overridden.
func CanActivate(f Facts, e Evaluation, override bool) (ok bool, blocking ReasonCode) {
	r := Readiness(f, e)
	switch {
	case r.Ready:
		return true, ReasonNone
	case override && r.Overridable:
		return true, ReasonNone
	case override:
		for _, c := range r.Blockers {
			if !c.Overridable() {
				return false, c
			}
		}
	}
	return false, r.Blockers[0]
}
