package main

import (
	"context"
	"fmt"
	"strconv"
	"testing"
	"time"
)

// TestBrowserAuditLive: the audit log's topic (audit:{workspace id}) is the owners' alone —
// a viewer's or operator's socket is refused with 4403, another workspace's owner's with
// 4404 — and in Chromium an entry made by another session appears on the owner's first page
// without a reload, while on the second page a notice counts the new entries and links to
// the newest ones.
func TestBrowserAuditLive(t *testing.T) {
	t.Parallel()
	base, conn := startAppOnDB(t, nil)
	ctx := context.Background()
	var ws int64
	if err := conn.QueryRow(ctx, `SELECT id FROM workspaces WHERE slug = 'acme'`).Scan(&ws); err != nil {
		t.Fatal(err)
	}
	// Older entries, so that the log has a second page (50 entries a page).
	if _, err := conn.Exec(ctx, `INSERT INTO workspace_audit_log (workspace_id, action, subject_type, subject_id)
		SELECT $1, 'onboarding.draft.updated', 'draft', gen_random_uuid()::text FROM generate_series(1, 60)`, ws); err != nil {
		t.Fatal(err)
	}
	topic := "draft=audit:" + strconv.FormatInt(ws, 10)

	t.Run("Refused", func(t *testing.T) {
		for email, want := range map[string]int{"viewer@acme.test": 4403, "operator@acme.test": 4403, "owner@globex.test": 4404} {
			c := client(t, base, email)
			if got := closeCode(t, mustDial(t, base, c, topic), 10*time.Second); int(got) != want {
				t.Errorf("%s as %s: close %d, want %d", topic, email, got, want)
			}
		}
	})

	t.Run("Owner", func(t *testing.T) {
		api := client(t, base, "operator@acme.test")
		o := newSession(t, newBrowser(t), base, "owner@acme.test")
		o.open("/admin/workspaces/acme/audit")
		o.liveState("live", 15*time.Second)
		o.markDocument()
		createDraftAPI(t, api, base, newUUID(), "Live audit Co", "liveaudit.healthy.test")
		o.js(`(() => { const r = document.querySelector('[data-testid=audit-row]');
			return !!r && r.dataset.action === 'onboarding.draft.created' && r.classList.contains('is-new') &&
				r.innerText.includes('Live audit Co') && r.innerText.includes('operator@acme.test'); })()`)
		o.stillSameDocument()
		if n := eval[int](o, `document.querySelectorAll('[data-testid=audit-row][data-action="onboarding.draft.created"]').length`); n != 1 {
			o.fail("%d rows of the new entry, want 1", n)
		}

		// The second page counts new entries in its notice, linked to the newest page.
		o.submit(`[data-testid=audit-next]`, 200)
		o.liveState("live", 15*time.Second)
		o.markDocument()
		createDraftAPI(t, api, base, newUUID(), "Second live Co", "secondlive.healthy.test")
		o.js(`/^1 new entry/.test(document.querySelector('[data-testid=list-notice]').innerText)`)
		createDraftAPI(t, api, base, newUUID(), "Third live Co", "thirdlive.healthy.test")
		o.js(`/^2 new entries/.test(document.querySelector('[data-testid=list-notice]').innerText)`)
		o.stillSameDocument()
		if n := eval[int](o, `document.querySelectorAll('[data-testid=audit-row].is-new').length`); n != 0 {
			o.fail("%d new rows put on the second page, want 0", n)
		}
		o.submit(`[data-testid=audit-newest]`, 200)
		o.js(fmt.Sprintf(`document.querySelector('[data-testid=audit-row]')?.innerText.includes(%q) && !location.search.includes('before=')`, "Third live Co"))
	})
}
