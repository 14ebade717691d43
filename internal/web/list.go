package web

import (
	"maps"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/tenantops/onboard/internal/onboarding"
	"github.com/tenantops/onboard/views"
)

// The parameters every list (drafts, operations, audit, members) shares, read by readList:
// q (free text), sort and dir (asc|desc), page (a number), after / before (keyset cursors
// of the next and previous pages, on the lists that grow), per_page (remembered in a cookie
// per list). Filters are each list's own.

// listSpec describes one list: its name (data-testid prefix and cookie), its path and its
// sort keys.
type listSpec struct {
	name, noun, path string
	sorts            map[string]sortSpec
	defaultSort      string
	idKind           cursorKind // what a cursor's id is; "" for lists paged by offset only
	searchLabel      string
	searchHint       string
}

// sortSpec is one sort key: its first direction and what a cursor's value is.
type sortSpec struct {
	desc bool
	kind cursorKind
}

// List bounds.
const (
	defaultPerPage = 50
	maxListSearch  = 200
	maxPage        = 100000
	maxCursor      = 1024 // base64 of the longest cursor, a 200-character name's, is under 1,100 bytes
	csvLimit       = 10000
	searchDetail   = "The search must be plain text (no control characters), at most 200 characters."
)

var perPageChoices = []int{25, 50, 100, 500}

// listParams are a list request's shared parameters, checked.
type listParams struct {
	Q             string
	Sort          string
	Desc          bool
	Page          int
	PerPage       int
	After, Before *onboarding.Cursor
	// perPageSet: per_page came in the URL (then it is remembered).
	perPageSet bool
}

// readList reads the shared parameters of spec's list; a bad value fails q (a 400). The page
// size comes from per_page, else the list's cookie, else the default.
func readList(q *query, r *http.Request, spec listSpec) listParams {
	p := listParams{PerPage: defaultPerPage, Page: 1}
	p.Q = q.text("q", maxListSearch, searchDetail)
	p.Sort = q.word("sort", func(v string) bool { _, ok := spec.sorts[v]; return ok }, "sort must be one of "+strings.Join(slices.Sorted(maps.Keys(spec.sorts)), ", ")+".")
	if p.Sort == "" {
		p.Sort = spec.defaultSort
	}
	switch q.word("dir", oneOf("asc", "desc"), "dir must be asc or desc.") {
	case "asc":
		p.Desc = false
	case "desc":
		p.Desc = true
	default:
		p.Desc = spec.sorts[p.Sort].desc
	}
	const perPageDetail = "per_page must be 25, 50, 100 or 500."
	if n, ok := q.number("per_page", 1, 500, perPageDetail); ok {
		if !slices.Contains(perPageChoices, int(n)) {
			q.fail(perPageDetail)
		}
		p.PerPage, p.perPageSet = int(n), true
	} else if c, err := r.Cookie(perPageCookie(spec)); err == nil {
		if n, err := strconv.Atoi(c.Value); err == nil && slices.Contains(perPageChoices, n) {
			p.PerPage = n // a cookie is the browser's memory, not input: a bad one is forgotten
		}
	}
	if n, ok := q.number("page", 1, maxPage, "page must be a page number."); ok {
		p.Page = int(n)
	}
	if spec.idKind != "" {
		p.After = q.cursor("after", spec.idKind, spec.sorts[p.Sort].kind)
		p.Before = q.cursor("before", spec.idKind, spec.sorts[p.Sort].kind)
		if p.After != nil && p.Before != nil {
			q.fail("A page continues either after or before a row, not both.")
		}
	} else if q.has("after") || q.has("before") {
		q.fail("This list has numbered pages only: use page.")
	}
	return p
}

func perPageCookie(spec listSpec) string { return "per_page_" + spec.name }

// rememberPerPage keeps a page size chosen in the URL for the list's next visits.
func (s *Server) rememberPerPage(w http.ResponseWriter, spec listSpec, p listParams) {
	if !p.perPageSet {
		return
	}
	http.SetCookie(w, &http.Cookie{Name: perPageCookie(spec), Value: strconv.Itoa(p.PerPage), Path: "/admin",
		MaxAge: 365 * 24 * 3600, HttpOnly: true, Secure: s.cfg.SecureCookies, SameSite: http.SameSiteLaxMode})
}

// listPage is the store's page of p: one row more than shown, to know whether another
// follows; a numbered page without a cursor starts at its offset.
func (p listParams) listPage() onboarding.ListPage {
	lp := onboarding.ListPage{Desc: p.Desc, After: p.After, Before: p.Before, Limit: p.PerPage + 1}
	if p.After == nil && p.Before == nil {
		lp.Offset = (p.Page - 1) * p.PerPage
	}
	return lp
}

// listRows is one page of rows with the neighbours' existence.
type listRows[T any] struct {
	rows             []T
	hasPrev, hasNext bool
}

// fetchPage reads p's page through read. A previous page that reaches the list's start is
// the first page (read again from the top, so it is full).
func fetchPage[T any](p *listParams, read func(onboarding.ListPage) ([]T, error)) (listRows[T], error) {
	rows, err := read(p.listPage())
	if err != nil {
		return listRows[T]{}, err
	}
	if p.Before != nil {
		if len(rows) > p.PerPage {
			return listRows[T]{rows: rows[1:], hasPrev: true, hasNext: true}, nil
		}
		p.Before, p.Page = nil, 1
		if rows, err = read(p.listPage()); err != nil {
			return listRows[T]{}, err
		}
	}
	if p.After != nil && p.Page < 2 {
		p.Page = 2 // a cursor continues: there is a page before it
	}
	out := listRows[T]{rows: rows, hasPrev: p.Page > 1}
	if len(rows) > p.PerPage {
		out.rows, out.hasNext = rows[:p.PerPage], true
	}
	return out, nil
}

// listMeta is what the page shows around the rows: the pages, the total, the links keeping
// keep (the list's filters, without paging). first and last are the shown rows' cursors.
func listMeta(spec listSpec, p listParams, keep url.Values, total, shown int, hasPrev, hasNext bool, first, last onboarding.Cursor) views.ListMeta {
	keep = cloneValues(keep)
	if p.Q != "" {
		keep.Set("q", p.Q)
	}
	if p.Sort != spec.defaultSort || p.Desc != spec.sorts[p.Sort].desc {
		keep.Set("sort", p.Sort)
		keep.Set("dir", map[bool]string{false: "asc", true: "desc"}[p.Desc])
	}
	if p.perPageSet && p.PerPage != defaultPerPage {
		keep.Set("per_page", strconv.Itoa(p.PerPage))
	}
	m := views.ListMeta{Name: spec.name, Noun: spec.noun, Path: spec.path, Keep: keep, Q: p.Q,
		SearchLabel: spec.searchLabel, SearchHint: spec.searchHint, Sort: p.Sort, Desc: p.Desc, Total: total,
		Page: p.Page, PerPage: p.PerPage, DefaultPerPage: defaultPerPage, PerPageChoices: perPageChoices}
	m.Pages = max(1, (total+p.PerPage-1)/p.PerPage)
	if shown > 0 {
		m.FirstRow = (p.Page-1)*p.PerPage + 1
		m.LastRow = m.FirstRow + shown - 1
	}
	pageURL := func(n int) string {
		if n <= 1 {
			return m.URL()
		}
		return m.URL("page", strconv.Itoa(n))
	}
	if hasPrev {
		if p.Page <= 2 || spec.idKind == "" {
			m.PrevURL = pageURL(p.Page - 1)
		} else {
			m.PrevURL = m.URL("page", strconv.Itoa(p.Page-1), "before", encodeCursor(first))
		}
	}
	if hasNext {
		if spec.idKind == "" {
			m.NextURL = pageURL(p.Page + 1)
		} else {
			m.NextURL = m.URL("page", strconv.Itoa(p.Page+1), "after", encodeCursor(last))
		}
	}
	pages := max(m.Pages, p.Page)
	for n := 1; n <= pages; n++ {
		near := n == 1 || n == pages || n >= p.Page-2 && n <= p.Page+2
		switch {
		case near:
			m.PageLinks = append(m.PageLinks, views.PageLink{N: n, URL: pageURL(n), Current: n == p.Page})
		case len(m.PageLinks) > 0 && !m.PageLinks[len(m.PageLinks)-1].Gap:
			m.PageLinks = append(m.PageLinks, views.PageLink{Gap: true})
		}
	}
	if len(m.PageLinks) == 1 {
		m.PageLinks = nil // one page needs no numbers
	}
	return m
}

// addChip shows an active filter (keys: its parameters) as a chip that removes it.
func addChip(m *views.ListMeta, label string, keys ...string) {
	pairs := []string{}
	for _, k := range keys {
		pairs = append(pairs, k, "")
	}
	m.Chips = append(m.Chips, views.FilterChip{Key: keys[0], Label: label, RemoveURL: m.URL(pairs...)})
}

// csvURL is the list's export: the same filters, every page.
func csvURL(m views.ListMeta) string { return m.URL("format", "csv", "per_page", "") }
