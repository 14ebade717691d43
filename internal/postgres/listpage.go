package postgres

import (
	"fmt"
	"strings"

	"github.com/tenantops/onboard/internal/onboarding"
)

// listSQL builds the WHERE, ORDER BY and LIMIT of one page of a list: the drafts, runs and
// audit lists share it, so their sorting and paging mean the same.
type listSQL struct {
	where []string
	args  []any
}

func (q *listSQL) arg(v any) string {
	q.args = append(q.args, v)
	return fmt.Sprintf("$%d", len(q.args))
}

func (q *listSQL) and(cond string) { q.where = append(q.where, cond) }

// openDraftSQL is the condition that a draft (of the table alias prefix, e.g. "s.", or "")
// is open: neither completed nor cancelled. The drafts list's checkpoint filter, the
// dashboard's open drafts by checkpoint and the drafts digest's checkpoints all use it.
func openDraftSQL(alias string) string {
	return alias + "completed_at IS NULL AND " + alias + "cancelled_at IS NULL AND " +
		alias + "lifecycle_state NOT IN ('completed', 'cancelled')"
}

// likeEscaper escapes LIKE's wildcards (the default escape character is the backslash).
var likeEscaper = strings.NewReplacer(`\`, `\\`, "%", `\%`, "_", `\_`)

// like is a case-insensitive substring pattern of s, its wildcards escaped.
func (q *listSQL) like(s string) string {
	return q.arg("%" + likeEscaper.Replace(strings.ToLower(s)) + "%")
}

func (q *listSQL) whereSQL() string { return " WHERE " + strings.Join(q.where, " AND ") }

// sortKey is one sortable column: fn wraps the column (and a cursor's value, cast to cast)
// in the expression that orders it, e.g. "lower(%s)".
type sortKey struct{ col, cast, fn string }

func (k sortKey) expr(col string) string {
	if k.fn == "" {
		return col
	}
	return fmt.Sprintf(k.fn, col)
}

// page adds the cursor's condition and returns ORDER BY … LIMIT … (OFFSET …), ties broken by
// id (idCol, a cursor's ID cast to idCast). A Before page is read backwards; reversed says
// the caller turns its rows round.
func (q *listSQL) page(k sortKey, idCol, idCast string, p onboarding.ListPage, maxLimit int) (tail string, reversed bool) {
	desc := p.Desc
	c := p.After
	if p.Before != nil {
		c, desc, reversed = p.Before, !desc, true
	}
	op, dir := ">", "ASC"
	if desc {
		op, dir = "<", "DESC"
	}
	if c != nil {
		q.and(fmt.Sprintf("(%s, %s) %s (%s, %s)", k.expr(k.col), idCol, op,
			k.expr(q.arg(c.Value)+"::"+k.cast), q.arg(c.ID)+"::"+idCast))
	}
	limit := p.Limit
	if limit <= 0 || limit > maxLimit {
		limit = 50
	}
	tail = fmt.Sprintf(" ORDER BY %s %s, %s %s LIMIT %s", k.expr(k.col), dir, idCol, dir, q.arg(limit))
	if c == nil && p.Offset > 0 {
		tail += " OFFSET " + q.arg(p.Offset)
	}
	return tail, reversed
}

// reverse turns a backwards-read page round.
func reverse[T any](rows []T, reversed bool) []T {
	if reversed {
		for i, j := 0, len(rows)-1; i < j; i, j = i+1, j-1 {
			rows[i], rows[j] = rows[j], rows[i]
		}
	}
	return rows
}

// inOrder is an expression giving a value's position in words (for sorting a vocabulary in
// its own order rather than alphabetically).
func inOrder[S ~string](words []S) string {
	quoted := make([]string, len(words))
	for i, w := range words {
		quoted[i] = "'" + string(w) + "'"
	}
	return "array_position(ARRAY[" + strings.Join(quoted, ", ") + "]::text[], %s)"
}
