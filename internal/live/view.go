package live

import (
	"errors"
	"strconv"
	"strings"
)

// View kinds: what a subscription's view shows (docs/live.md, Views and Topics).
const (
	ViewCheckpoint = "checkpoint" // the wizard's checkpoint panel; the default; "checkpoint:N" is step N
	ViewRow        = "row"        // a draft's row in the drafts list
	ViewRun        = "run"        // "run:<run id>": one operation run's panel within the draft's page
	ViewOpRow      = "oprow"      // "oprow:<run id>": one run's row in the operations list
	ViewDigest     = "digest"     // the view of a workspace topic
	ViewBell       = "bell"       // the view of a user topic
	// ViewRunPrefix and ViewOpRowPrefix start the views of one run.
	ViewRunPrefix   = ViewRun + ":"
	ViewOpRowPrefix = ViewOpRow + ":"
)

// Steps is how many wizard steps a checkpoint view may name: onboarding.Steps (the presenter's
// tests pin the two equal; the hub does not import the domain).
const Steps = 5

// View is a view name read by ParseView.
type View struct {
	Kind  string // ViewCheckpoint, ViewRow, ViewRun, ViewOpRow, ViewDigest or ViewBell
	Step  int    // a checkpoint's step, 1–Steps; 0 = the draft's current one
	RunID string // the run of a ViewRun or ViewOpRow view
}

// errView is ParseView's refusal; callers wrap it with what they were reading.
var errView = errors.New("view must be checkpoint, checkpoint:{1-5}, row, run:{id}, oprow:{id}, digest or bell")

// ParseView reads a view name: checkpoint, checkpoint:N (N in 1–Steps), row, run:{id},
// oprow:{id}, digest or bell, where a run id is 1–64 letters, digits or '-'. It is the one
// reader of the view grammar: the hub checks subscriptions with it, the web edge reads /live's
// query with it and the presenter picks what to render with it.
func ParseView(s string) (View, error) {
	kind, arg, hasArg := strings.Cut(s, ":")
	switch {
	case kind == ViewCheckpoint && !hasArg:
		return View{Kind: kind}, nil
	case kind == ViewCheckpoint:
		if len(arg) != 1 || arg[0] < '1' || arg[0] > '0'+Steps {
			return View{}, errView
		}
		return View{Kind: kind, Step: int(arg[0] - '0')}, nil
	case (kind == ViewRow || kind == ViewDigest || kind == ViewBell) && !hasArg:
		return View{Kind: kind}, nil
	case (kind == ViewRun || kind == ViewOpRow) && validRunID(arg):
		return View{Kind: kind, RunID: arg}, nil
	}
	return View{}, errView
}

func validRunID(id string) bool {
	if id == "" || len(id) > 64 {
		return false
	}
	for _, r := range id {
		if !(r == '-' || '0' <= r && r <= '9' || 'a' <= r && r <= 'z' || 'A' <= r && r <= 'Z') {
			return false
		}
	}
	return true
}

// String is the view's name, as ParseView reads it.
func (v View) String() string {
	switch {
	case v.Kind == ViewCheckpoint && v.Step > 0:
		return ViewCheckpoint + ":" + strconv.Itoa(v.Step)
	case v.Kind == ViewRun || v.Kind == ViewOpRow:
		return v.Kind + ":" + v.RunID
	}
	return v.Kind
}

// TopicView reports whether v is a topic's view (digest or bell) rather than a draft's.
func (v View) TopicView() bool { return v.Kind == ViewDigest || v.Kind == ViewBell }
