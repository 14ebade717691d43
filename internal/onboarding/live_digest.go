package onboarding

import "time"

// DigestSize is how many of a workspace's latest changes a list digest carries.
const DigestSize = 100

// DraftsDigest is what the drafts list's live topic shows (docs/live.md, Topics): the
// counts per lifecycle state over the whole workspace and the drafts changed last, so each
// tab can tell which changes enter or leave the page it shows.
type DraftsDigest struct {
	WorkspaceID int64
	Rev         int64 // the newest rev of the workspace's drafts
	Counts      map[string]int
	Changed     []DraftChange // newest rev first, at most DigestSize
	// Floor is the rev of the oldest entry of Changed when the workspace has more drafts
	// than Changed lists (a tab older than it cannot tell what changed); 0 = all listed.
	Floor int64
}

// DraftChange is one draft in a digest: what the list filters on.
type DraftChange struct {
	ID, Lifecycle string
	// OpenCheckpoint is the draft's current checkpoint while it is open (neither completed
	// nor cancelled), "" once it is not: what the drafts list's checkpoint filter selects.
	OpenCheckpoint                       string
	DisplayName, PrimaryDomain, TenantID string
	Rev                                  int64
}

// RunsDigest is what the operations list's live topic shows: the workspace's latest runs,
// so a tab can announce runs it does not list.
type RunsDigest struct {
	WorkspaceID int64
	Rev         int64      // the newest rev of the workspace's runs
	Latest      []RunBrief // newest first, at most DigestSize
}

// AuditDigest is the audit log topic of a workspace: the id of its newest entry, which is
// the topic's rev (identities only grow). Pages read the entries themselves, with their
// filters, when it moves (docs/live.md, Topics).
type AuditDigest struct {
	WorkspaceID int64
	Rev         int64 // the newest entry's id; 0 when the log is empty
}

// RunBrief is one run in a runs digest: what the operations list filters on.
type RunBrief struct {
	ID, DraftID, Type, Status, Outcome string
	CreatedAt                          time.Time
	// Search is what the list's search matches, lower-cased, a line per field (the run's type,
	// who started it, its tenant's name, domain and id).
	Search string
}

// Bell is what a user's notifications topic shows: the unread count and the latest
// notifications of the workspaces the user is still a member of.
type Bell struct {
	UserID int64
	Rev    int64 // the newest rev of the user's notifications
	Unread int
	Latest []BellItem // newest first
}

// BellItem is one notification with what its links and words need.
type BellItem struct {
	Notification
	Workspace string // slug
	Tenant    string // the draft's display name or tenant id; "" when none
}

// DashboardWindow is how far back the workspace dashboard counts runs.
const DashboardWindow = 24 * time.Hour

// Dashboard is what a workspace's dashboard shows (its page and its live topic, docs/live.md,
// Topics): one query's answer, whatever the number of tabs.
type Dashboard struct {
	WorkspaceID int64
	Workspace   string // slug
	// Rev is the newest rev of the workspace's drafts and runs, or of its last presence
	// change when that is newer.
	Rev int64
	// Since starts the runs window (DashboardWindow before the read).
	Since time.Time
	// Lifecycle counts every draft per lifecycle_state; Checkpoint counts the open ones
	// (neither completed nor cancelled) per current_checkpoint.
	Lifecycle, Checkpoint map[string]int
	// Runs counts the runs created since Since: queued and running ones by status, completed
	// ones by outcome.
	Runs map[string]int
	// Requested lists the open activation requests, oldest first (at most DashboardListSize).
	Requested []DashboardDraft
	// Present lists who has one of the workspace's drafts open (presence), by email.
	Present []DashboardPerson
}

// DashboardListSize bounds the dashboard's lists.
const DashboardListSize = 10

// DashboardDraft is one draft named on the dashboard.
type DashboardDraft struct {
	ID, Name string
	By       string // who requested its activation (email; "" for a former member)
	At       time.Time
}

// DashboardPerson is one person with a draft of the workspace open.
type DashboardPerson struct {
	Email, DraftID, Draft string // Draft: its display name or tenant id
	Step                  int
	Idle                  bool
}
