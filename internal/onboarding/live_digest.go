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
	ID, Lifecycle                        string
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
