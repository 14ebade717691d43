package postgres

import (
	"context"
	"fmt"
	"time"

	"github.com/tenantops/onboard/internal/fault"
	"github.com/tenantops/onboard/internal/onboarding"
)

// Notify implements onboarding.RunTx: it adds an in-app notification for n.UserID. Payloads
// carry ids and codes only.
func (t *storeTx) Notify(ctx context.Context, n onboarding.Notification, now time.Time) error {
	payload := n.Payload
	if payload == nil {
		payload = map[string]any{}
	}
	if _, err := t.tx.Exec(ctx, `INSERT INTO user_notifications
			(user_id, workspace_id, kind, title, body, draft_id, run_id, payload, created_at)
		VALUES ($1, $2, $3, $4, $5, nullif($6, '')::uuid, nullif($7, '')::uuid, $8, $9)`,
		n.UserID, n.WorkspaceID, n.Kind, n.Title, n.Body, n.DraftID, n.RunID, payload, now); err != nil {
		return fmt.Errorf("insert notification: %w", err)
	}
	return nil
}

// Notifications lists a user's newest notifications (limit ≤ 0 means 20, capped at 200).
func (db *DB) Notifications(ctx context.Context, userID int64, limit int) ([]onboarding.Notification, error) {
	if limit <= 0 {
		limit = 20
	}
	limit = min(limit, 200)
	rows, err := db.Pool.Query(ctx, `SELECT id, user_id, workspace_id, kind, title, body,
			coalesce(draft_id::text, ''), coalesce(run_id::text, ''), payload, read_at, created_at
		FROM user_notifications WHERE user_id = $1 ORDER BY id DESC LIMIT $2`, userID, limit)
	if err != nil {
		return nil, fmt.Errorf("list notifications: %w", err)
	}
	defer rows.Close()
	out := []onboarding.Notification{}
	for rows.Next() {
		var n onboarding.Notification
		var readAt *time.Time
		if err := rows.Scan(&n.ID, &n.UserID, &n.WorkspaceID, &n.Kind, &n.Title, &n.Body, &n.DraftID, &n.RunID,
			&n.Payload, &readAt, &n.CreatedAt); err != nil {
			return nil, fmt.Errorf("scan notification: %w", err)
		}
		if readAt != nil {
			n.ReadAt = *readAt
		}
		out = append(out, n)
	}
	return out, rows.Err()
}

// UnreadCount counts a user's unread notifications.
func (db *DB) UnreadCount(ctx context.Context, userID int64) (int, error) {
	var n int
	if err := db.Pool.QueryRow(ctx, `SELECT count(*) FROM user_notifications WHERE user_id = $1 AND read_at IS NULL`,
		userID).Scan(&n); err != nil {
		return 0, fmt.Errorf("count notifications: %w", err)
	}
	return n, nil
}

// MarkNotificationRead marks one of a user's notifications read; fault.ErrNotFound when
// the user has no notification with that id.
func (db *DB) MarkNotificationRead(ctx context.Context, userID, id int64) error {
	tag, err := db.Pool.Exec(ctx, `UPDATE user_notifications SET read_at = coalesce(read_at, now())
		WHERE user_id = $1 AND id = $2`, userID, id)
	if err != nil {
		return fmt.Errorf("mark notification read: %w", err)
	}
	if tag.RowsAffected() == 0 {
		return fault.ErrNotFound
	}
	return nil
}

// MarkNotificationsRead marks every unread notification of a user as read.
func (db *DB) MarkNotificationsRead(ctx context.Context, userID int64) error {
	if _, err := db.Pool.Exec(ctx, `UPDATE user_notifications SET read_at = now() WHERE user_id = $1 AND read_at IS NULL`,
		userID); err != nil {
		return fmt.Errorf("mark notifications read: %w", err)
	}
	return nil
}
