package postgres

import (
	"context"
	"fmt"
	"strings"

	"github.com/jackc/pgx/v5"

	"github.com/tenantops/onboard/internal/onboarding"
)

// SearchRuns finds a workspace's runs for the global search, newest first: those whose id
// starts with q, or whose type, tenant id or draft name contains it (case-insensitive; a
// space in q also matches the type's underscore, so "verify access" finds verify_access).
func (s *Store) SearchRuns(ctx context.Context, workspaceID int64, q string, limit int) ([]onboarding.RunMatch, error) {
	lq := strings.ToLower(q)
	contains := "%" + likeEscaper.Replace(lq) + "%"
	typeLike := "%" + likeEscaper.Replace(strings.ReplaceAll(lq, " ", "_")) + "%"
	prefix := likeEscaper.Replace(lq) + "%"
	rows, err := s.Pool.Query(ctx, `SELECT `+runColumns+`, coalesce(d.display_name, '')
		FROM operation_runs r`+runJoins+`
		LEFT JOIN managed_tenant_onboarding_sessions d ON d.id = r.draft_id
		WHERE r.workspace_id = $1
			AND (r.id::text LIKE $2 OR r.type LIKE $3 OR r.type LIKE $4 OR r.tenant_id::text LIKE $3
				OR lower(d.display_name) LIKE $3)
		ORDER BY r.created_at DESC, r.id DESC LIMIT $5`,
		workspaceID, prefix, contains, typeLike, limit)
	if err != nil {
		return nil, fmt.Errorf("search runs: %w", err)
	}
	defer rows.Close()
	out := []onboarding.RunMatch{}
	for rows.Next() {
		var m onboarding.RunMatch
		var name string
		r, err := scanRun(scanTail{rows, &name})
		if err != nil {
			return nil, fmt.Errorf("scan run: %w", err)
		}
		m.Run, m.DraftName = r, name
		out = append(out, m)
	}
	return out, rows.Err()
}

// scanTail is a row whose columns after scanRun's own go to tail: one scanner for a run
// and what a query selects beside it.
type scanTail struct {
	row  pgx.Row
	tail *string
}

func (t scanTail) Scan(dest ...any) error { return t.row.Scan(append(dest, t.tail)...) }
