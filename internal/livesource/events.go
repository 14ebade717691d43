package livesource

import (
	"github.com/tenantops/onboard/internal/live"
	"github.com/tenantops/onboard/internal/postgres"
)

// HubNotifier feeds the listener's events to the hub (postgres.Notifier), converting each
// postgres.LiveEvent to a live.Event.
type HubNotifier struct{ Hub *live.Hub }

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
func (n HubNotifier) Notify(e postgres.LiveEvent) { n.Hub.Notify(Event(e)) }

// Resync starts a new epoch in the hub: the listener (re)connected.
func (n HubNotifier) Resync() { n.Hub.Resync() }

// Disconnected tells the hub notifications may be lost until the next Resync.
func (n HubNotifier) Disconnected() { n.Hub.Disconnected() }
