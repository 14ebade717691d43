package web

import (
	"encoding/base64"
	"errors"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/tenantops/onboard/internal/onboarding"
	"github.com/tenantops/onboard/internal/operation"
)

// The fuzz targets of the lists' query parsing (query.go): whatever the query string, a
// parser answers a 4xx or a filter whose every text is clean (valid UTF-8, no control
// character, bounded) and whose every word is of its vocabulary — nothing PostgreSQL
// refuses (SQLSTATE 22021) reaches a store.

// queryHostile are raw query values every target is seeded with, under each of its keys.
var queryHostile = []string{"%00", "%FF", "a%00b", "%C3%28", "%ED%A0%80", "%C0%80", "%0A", "%7F", "%C2%85", "%E2%80%8B",
	"-1", "0", "99999999999999999999", "1e3", "'%20OR%201=1--", "%25", "x", strings.Repeat("a", 5000),
	strings.Repeat("%C3%A9", 150), "2024-13-45", "0000-01-01"}

// seedQueries adds good, for each key every hostile value, and the cursors of cursors().
func seedQueries(f *testing.F, keys []string, good ...string) {
	for _, g := range good {
		f.Add(g)
	}
	for _, k := range keys {
		for _, v := range queryHostile {
			f.Add(k + "=" + v)
		}
	}
}

// cursorSeeds are page cursors whose parts are each wrong in one way, and good ones.
func cursorSeeds() []string {
	enc := func(s string) string { return base64.RawURLEncoding.EncodeToString([]byte(s)) }
	var out []string
	for _, raw := range []string{
		"acme|" + fuzzGUID, "2024-05-01T10:00:00.123456789Z|" + fuzzGUID, "a|b|" + fuzzGUID, "|" + fuzzGUID,
		"\xff|" + fuzzGUID, "\x00|" + fuzzGUID, "a\x00b|" + fuzzGUID, strings.Repeat("é", 201) + "|" + fuzzGUID,
		"2024-05-01|" + fuzzGUID, "acme|" + fuzzGUID + "\x00", "acme", "42|42", "-1|-1", "",
	} {
		out = append(out, enc(raw))
	}
	return append(out, "%%%", "!!!!", strings.Repeat("A", 5000))
}

// wantClean fails t unless each text is clean and at most max bytes.
func wantClean(t *testing.T, raw string, max int, texts ...string) {
	t.Helper()
	for _, s := range texts {
		if len(s) > max || !utf8.ValidString(s) || strings.IndexFunc(s, unicode.IsControl) >= 0 {
			t.Fatalf("%q accepted from %q: PostgreSQL refuses it, or it is unbounded", s, raw)
		}
	}
}

// want4xx fails t unless err is a 4xx.
func want4xx(t *testing.T, raw string, err error) {
	t.Helper()
	var he *httpError
	if !errors.As(err, &he) || he.Status < 400 || he.Status >= 500 {
		t.Fatalf("%q: %v, want a 4xx", raw, err)
	}
}

// FuzzDraftFilter: the drafts list's q, lifecycle, sort, dir, page, per_page, after and
// before (the page cursors).
func FuzzDraftFilter(f *testing.F) {
	seedQueries(f, []string{"q", "lifecycle", "sort", "dir", "page", "per_page", "after", "before"},
		"q=acme&lifecycle=draft&sort=name&dir=desc&per_page=25", "sort=updated&per_page=500&page=3", "lifecycle=action_required")
	for _, c := range cursorSeeds() {
		f.Add("sort=name&after=" + c)
		f.Add("after=" + c)
		f.Add("sort=status&before=" + c)
	}
	spec := draftsList("acme")
	f.Fuzz(func(t *testing.T, raw string) {
		p, flt, err := draftFilter(parseQuery(raw), httptest.NewRequest("GET", "/", nil), spec)
		if err != nil {
			want4xx(t, raw, err)
			return
		}
		wantClean(t, raw, maxListSearch, flt.Q)
		if _, err := onboarding.ParseLifecycle(flt.Lifecycle); flt.Lifecycle != "" && err != nil {
			t.Fatalf("lifecycle %q accepted from %q", flt.Lifecycle, raw)
		}
		if _, ok := spec.sorts[flt.Sort]; !ok {
			t.Fatalf("sort %q accepted from %q", flt.Sort, raw)
		}
		if p.PerPage < 1 || p.PerPage > 500 || p.Page < 1 || p.Page > maxPage {
			t.Fatalf("per_page %d, page %d accepted from %q", p.PerPage, p.Page, raw)
		}
		for _, c := range []*onboarding.Cursor{p.After, p.Before} {
			if c == nil {
				continue
			}
			wantClean(t, raw, maxCursor, c.Value)
			if !onboarding.IsGUID(c.ID) {
				t.Fatalf("cursor id %q accepted from %q", c.ID, raw)
			}
		}
	})
}

// FuzzDraftCursor: a cursor the list writes reads back as the same position.
func FuzzDraftCursor(f *testing.F) {
	for _, s := range []string{"Acme", "", "a|b", "É|\u00a0", strings.Repeat("é", 200)} {
		f.Add(s, int64(1714557600123456789), true)
	}
	f.Fuzz(func(t *testing.T, name string, nanos int64, byName bool) {
		if !cleanText(name, 4*onboarding.MaxDisplayNameRunes) || utf8.RuneCountInString(name) > onboarding.MaxDisplayNameRunes {
			return // not a display name the service stores
		}
		last := onboarding.Draft{ID: fuzzGUID, DisplayName: name, UpdatedAt: time.Unix(0, nanos).UTC()}
		sort, kind := "updated", cursorTime
		if byName {
			sort, kind = "name", cursorText
		}
		want := draftCursor(sort, last)
		back, err := decodeCursor(encodeCursor(want), cursorGUID, kind)
		if err != nil {
			t.Fatalf("cursor of %+v refused: %v", last, err)
		}
		if back != want {
			t.Fatalf("cursor %+v read back as %+v", want, back)
		}
	})
}

// FuzzAuditFilter: the audit log's action, actor, draft, from, to and before.
func FuzzAuditFilter(f *testing.F) {
	seedQueries(f, []string{"action", "actor", "draft", "from", "to", "before", "q"},
		"action=onboarding.&actor=owner%40acme.test&draft="+fuzzGUID+"&from=2024-01-01&to=2024-12-31&q=x", "actor=system")
	for _, c := range cursorSeeds() {
		f.Add("before=" + c)
	}
	spec := auditList("acme")
	f.Fuzz(func(t *testing.T, raw string) {
		_, flt, err := auditFilter(parseQuery(raw), httptest.NewRequest("GET", "/", nil), spec)
		if err != nil {
			want4xx(t, raw, err)
			return
		}
		wantClean(t, raw, maxEmail, flt.Actor)
		if flt.Action != "" && !validAction(flt.Action) {
			t.Fatalf("action %q accepted from %q", flt.Action, raw)
		}
		if flt.DraftID != "" && (!onboarding.IsGUID(flt.DraftID) || flt.DraftID != strings.ToLower(flt.DraftID)) {
			t.Fatalf("draft %q accepted from %q", flt.DraftID, raw)
		}
		wantClean(t, raw, maxListSearch, flt.Q)
		if c := flt.Before; c != nil && (!cursorPart(c.ID, cursorInt) || !cursorPart(c.Value, cursorInt)) {
			t.Fatalf("before %+v accepted from %q", c, raw)
		}
	})
}

// FuzzOperationsFilter: the operations page's type, status, outcome and draft.
func FuzzOperationsFilter(f *testing.F) {
	seedQueries(f, []string{"type", "status", "outcome", "draft", "tenant", "q"},
		"type=bootstrap.inventory_sync&status=completed&outcome=failed&draft="+fuzzGUID, "type=verify_access&status=queued",
		"status=running&outcome=succeeded", "type=bootstrap.%00", "type=bootstrap.Inventory")
	f.Fuzz(func(t *testing.T, raw string) {
		_, flt, tenant, err := operationsFilter(parseQuery(raw), httptest.NewRequest("GET", "/", nil), operationsList("acme"))
		if err != nil {
			want4xx(t, raw, err)
			return
		}
		wantRunFilter(t, raw, flt.Type, flt.Status)
		wantClean(t, raw, 4*onboarding.MaxDisplayNameRunes, tenant)
		if o, err := operation.ParseOutcome(flt.Outcome); flt.Outcome != "" && (err != nil || o == operation.OutcomeNone) {
			t.Fatalf("outcome %q accepted from %q", flt.Outcome, raw)
		}
		if flt.Draft != "" && !onboarding.IsGUID(flt.Draft) {
			t.Fatalf("draft %q accepted from %q", flt.Draft, raw)
		}
	})
}

// FuzzRunsFilter: the API's operation-runs filters (a draft that is no id is the 404 of a
// draft of another workspace).
func FuzzRunsFilter(f *testing.F) {
	seedQueries(f, []string{"type", "status", "draft"}, "draft="+fuzzGUID+"&type=verify_access&status=running")
	f.Fuzz(func(t *testing.T, raw string) {
		flt, err := runsFilter(parseQuery(raw))
		if err != nil {
			want4xx(t, raw, err)
			return
		}
		wantRunFilter(t, raw, flt.Type, flt.Status)
		if flt.DraftID != "" && !onboarding.IsGUID(flt.DraftID) {
			t.Fatalf("draft %q accepted from %q", flt.DraftID, raw)
		}
	})
}

// wantRunFilter fails t unless type and status are of the run vocabulary (or empty).
func wantRunFilter(t *testing.T, raw, typ, status string) {
	t.Helper()
	if _, err := operation.ParseType(typ); typ != "" && err != nil {
		t.Fatalf("type %q accepted from %q", typ, raw)
	}
	if _, err := operation.ParseStatus(status); status != "" && err != nil {
		t.Fatalf("status %q accepted from %q", status, raw)
	}
}
