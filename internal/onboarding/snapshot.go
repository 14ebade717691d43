package onboarding

import (
	"slices"

	"github.com/tenantops/onboard/internal/operation"
)

// Snapshot is one draft as every reader sees it — the wizard and run pages, the poll
// fallback and the live hub: the draft, its runs (newest first; the latest run of every
// type is among them) and its attached connection (nil when none).
type Snapshot struct {
	Draft Draft
	Runs  []operation.Run
	Conn  *ConnectionInfo
}

// Rev orders the snapshot's fragments: max(draft rev, its runs' revs).
func (s Snapshot) Rev() int64 {
	rev := s.Draft.Rev
	for _, r := range s.Runs {
		rev = max(rev, r.Rev)
	}
	return rev
}

// LatestRuns is the latest run of each type.
func (s Snapshot) LatestRuns() map[operation.Type]operation.Run {
	latest := map[operation.Type]operation.Run{}
	for _, r := range s.Runs { // newest first: the first of each type is its latest
		if _, seen := latest[r.Type]; !seen {
			latest[r.Type] = r
		}
	}
	return latest
}

// Facts are the draft's lifecycle facts, assembled as the write path assembles them (the
// store's LoadFacts reads the latest run per type in SQL and calls FactsOfLatest too).
func (s Snapshot) Facts() Facts {
	latest := s.LatestRuns()
	types := make([]operation.Type, 0, len(latest))
	for t := range latest {
		types = append(types, t)
	}
	slices.Sort(types)
	runs := make([]RunFact, 0, len(types))
	for _, t := range types {
		runs = append(runs, RunFactOf(latest[t]))
	}
	var conn *ConnectionFact
	if s.Conn != nil {
		conn = &ConnectionFact{ID: s.Conn.ID, Status: s.Conn.Status}
	}
	return s.Draft.FactsOfLatest(conn, runs)
}

// RunFactOf is what the lifecycle rules know of a run.
func RunFactOf(r operation.Run) RunFact {
	connID, _ := r.Context["connection_id"].(string)
	return RunFact{ID: r.ID, Type: r.Type, Status: r.Status, Outcome: r.Outcome,
		ReasonCode: ReasonCode(r.ReasonCode), ConnectionID: connID}
}

// FactsOfLatest assembles the draft's facts from its connection (nil when none) and the
// latest run of each type: the verification run and the bootstrap runs, in the order given.
func (d Draft) FactsOfLatest(conn *ConnectionFact, latest []RunFact) Facts {
	var verification *RunFact
	var bootstrap []RunFact
	for _, r := range latest {
		switch {
		case r.Type == operation.TypeVerifyAccess:
			verification = &r
		case r.Type.IsBootstrap():
			bootstrap = append(bootstrap, r)
		}
	}
	return d.Facts(conn, verification, bootstrap)
}
