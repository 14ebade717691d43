package livesource

import (
	"github.com/tenantops/onboard/internal/live"
	"github.com/tenantops/onboard/internal/postgres"
)

// HubNotifier feeds the listener's events to the hub (postgres.Notifier), converting each
// postgres.LiveEvent to a live.Event, and the session events to Sessions too.
type HubNotifier struct {
	Hub *live.Hub
	// Sessions, when set, is told of every session's end and of the listener's gaps (the
	// web edge's cache of who a session signs in for /live, web.LiveSessions).
	Sessions SessionWatcher
}

// SessionWatcher follows the sessions change stream (web.LiveSessions).
type SessionWatcher interface {
	SessionEnded(key string) // the SHA-256 (hex) of the ended session's stored token
	Disconnected()           // notifications may be lost until Resync
	Resync()                 // the listener listens again
}

// kinds maps the triggers' kinds to the hub's.
var kinds = map[string]string{
	postgres.LiveKindDraft:        live.KindDraft,
	postgres.LiveKindRun:          live.KindRun,
	postgres.LiveKindMembership:   live.KindMembership,
	postgres.LiveKindSession:      live.KindSession,
	postgres.LiveKindNotification: live.KindNotification,
	postgres.LiveKindAudit:        live.KindAudit,
}

// Event is e as the hub takes it.
func Event(e postgres.LiveEvent) live.Event {
	return live.Event{Kind: kinds[e.Kind], DraftID: e.DraftID, WorkspaceID: e.WorkspaceID, UserID: e.UserID,
		Session: e.Session, At: e.At}
}

// Notify hands e to the hub; it does not block.
// A session's end reaches Sessions first, so that no connect is let in from the cache once
// the hub has closed the session's sockets.
func (n HubNotifier) Notify(e postgres.LiveEvent) {
	if n.Sessions != nil && e.Kind == postgres.LiveKindSession {
		n.Sessions.SessionEnded(e.Session)
	}
	n.Hub.Notify(Event(e))
}

// Resync starts a new epoch in the hub: the listener (re)connected.
func (n HubNotifier) Resync() {
	if n.Sessions != nil {
		n.Sessions.Resync()
	}
	n.Hub.Resync()
}

// Disconnected tells the hub notifications may be lost until the next Resync.
func (n HubNotifier) Disconnected() {
	if n.Sessions != nil {
		n.Sessions.Disconnected()
	}
	n.Hub.Disconnected()
}
