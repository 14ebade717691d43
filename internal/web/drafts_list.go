package web

import (
	"context"
	"encoding/base64"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/tenantops/onboard/internal/access"
	"github.com/tenantops/onboard/internal/onboarding"
	"github.com/tenantops/onboard/internal/presenter"
	"github.com/tenantops/onboard/views"
)

// draftsPageSize is the drafts list's default page; per_page may ask for another of
// draftsPageSizes (500 rows still fit in one /live socket with the list's topics).
const draftsPageSize = 50

var draftsPageSizes = []int{25, 50, 100, 500}

// handleDraftsPage is GET /admin/workspaces/{ws}/onboarding: the drafts, with status tabs
// counted over the whole workspace (lifecycle=), search by name, domain or tenant id (q=),
// sorting (sort=updated|name) and keyset pages (after=, an opaque cursor).
func (s *Server) handleDraftsPage(w http.ResponseWriter, r *http.Request) {
	m, _ := memberFrom(r.Context())
	f, err := draftFilter(queryOf(r))
	if err != nil {
		s.error(w, r, err)
		return
	}
	d, err := s.draftsPageData(r.Context(), m, f)
	if err != nil {
		s.error(w, r, err)
		return
	}
	d.Toasts = s.popToasts(r)
	s.renderDrafts(w, r, http.StatusOK, d)
}

// Bounds of the drafts list's parameters.
const (
	maxDraftSearch = 200
	maxCursor      = 1024 // base64 of the longest cursor, a 200-character name's, is under 1,100 bytes
)

// draftFilter reads the list's parameters; anything malformed is a 400.
func draftFilter(q *query) (onboarding.DraftFilter, error) {
	f := onboarding.DraftFilter{Limit: draftsPageSize}
	if n, ok := q.number("per_page", 1, 500, "per_page must be 25, 50, 100 or 500."); ok {
		if !slices.Contains(draftsPageSizes, int(n)) {
			q.fail("per_page must be 25, 50, 100 or 500.")
		}
		f.Limit = int(n)
	}
	f.Lifecycle = q.word("lifecycle", oneOf(onboarding.Lifecycles...),
		"lifecycle must be one of draft, verifying, action_required, bootstrapping, ready_for_activation, completed, cancelled.")
	f.Checkpoint = q.word("checkpoint", oneOf(onboarding.Checkpoints...),
		"checkpoint must be one of identify, connect_provider, verify_access, bootstrap, activate.")
	f.Q = q.text("q", maxDraftSearch, "The search must be plain text (no control characters), at most 200 characters.")
	f.Sort = q.word("sort", oneOf("updated", "name"), "sort must be updated or name.")
	if a := q.get("after"); a != "" && q.Err() == nil {
		if len(a) > maxCursor || decodeCursor(a, &f) != nil {
			q.fail("after is not a page cursor of this list.")
		}
	}
	return f, q.Err()
}

// A page cursor is the last row's sort key and id, base64url: "t|<RFC 3339 time>|<id>" or
// "n|<lower-cased name>|<id>". Every part is checked on the way back: the time parses, the
// name is clean text no longer than a display name, the id is a GUID.
func encodeCursor(f onboarding.DraftFilter, last onboarding.Draft) string {
	var key string
	if f.Sort == "name" {
		key = "n|" + strings.ToLower(last.DisplayName) + "|" + last.ID
	} else {
		key = "t|" + last.UpdatedAt.UTC().Format(time.RFC3339Nano) + "|" + last.ID
	}
	return base64.RawURLEncoding.EncodeToString([]byte(key))
}

func decodeCursor(s string, f *onboarding.DraftFilter) error {
	raw, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil {
		return err
	}
	parts := strings.Split(string(raw), "|")
	if len(parts) < 3 || !onboarding.IsGUID(parts[len(parts)-1]) {
		return errBadCursor
	}
	id := parts[len(parts)-1]
	value := strings.Join(parts[1:len(parts)-1], "|")
	switch {
	case parts[0] == "t" && f.Sort != "name":
		t, err := time.Parse(time.RFC3339Nano, value)
		if err != nil {
			return err
		}
		f.AfterTime = t
	case parts[0] == "n" && f.Sort == "name":
		if !cleanText(value, maxCursor) || utf8.RuneCountInString(value) > onboarding.MaxDisplayNameRunes {
			return errBadCursor
		}
		f.AfterName = value
	default:
		return errBadCursor
	}
	f.AfterID = strings.ToLower(id)
	return nil
}

var errBadCursor = badRequest("bad cursor")

// draftsPageData reads one page of drafts (f.Limit rows) and the workspace's drafts topic,
// whose counts the status tabs show. The digest is read first: a change landing between the
// two reads is then newer than the page's digest, so the tab hears of it (docs/live.md,
// Topics).
func (s *Server) draftsPageData(ctx context.Context, m access.Member, f onboarding.DraftFilter) (views.DraftsPageData, error) {
	d := views.DraftsPageData{Workspace: m.Workspace, Lifecycle: f.Lifecycle, Checkpoint: f.Checkpoint, Q: f.Q, Sort: f.Sort, PerPage: f.Limit,
		CanCreate: m.Can(access.DraftCreate)}
	digest, err := s.deps.Drafts.DraftsDigest(ctx, m.WorkspaceID)
	if err != nil {
		return d, err
	}
	d.Counts, d.Digest = digest.Counts, presenter.DraftsDigestView(digest)
	size := f.Limit
	f.Limit = size + 1
	ds, err := s.deps.Drafts.DraftPage(ctx, m.WorkspaceID, f)
	if err != nil {
		return d, err
	}
	keep := url.Values{}
	for k, v := range map[string]string{"q": f.Q, "lifecycle": f.Lifecycle, "checkpoint": f.Checkpoint, "sort": f.Sort} {
		if v != "" {
			keep.Set(k, v)
		}
	}
	if size != draftsPageSize {
		keep.Set("per_page", strconv.Itoa(size))
	}
	base := "/admin/workspaces/" + m.Workspace + "/onboarding"
	if len(ds) > size {
		ds = ds[:size]
		next := cloneValues(keep)
		next.Set("after", encodeCursor(f, ds[len(ds)-1]))
		d.NextURL = base + "?" + next.Encode()
	}
	if f.AfterID != "" {
		d.FirstURL = base + "?" + keep.Encode()
	}
	d.Rows = append(d.Rows, presenter.DraftRows(ds)...)
	return d, nil
}

func (s *Server) renderDrafts(w http.ResponseWriter, r *http.Request, status int, d views.DraftsPageData) {
	nav := s.navFor(r)
	nav.Section = "onboarding"
	s.render(w, r, status, views.DraftsPage(nav, d))
}
