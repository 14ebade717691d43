package web

import (
	"encoding/base64"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/tenantops/onboard/internal/onboarding"
)

// query is a request's query string as every handler reads it (all but /live's, whose
// grammar live_query.go parses whole): the one place a query value is checked before a
// handler, and through it SQL, sees it. PostgreSQL refuses text that is not UTF-8 or holds
// NUL (SQLSTATE 22021, a 500), so a value read here is valid UTF-8 without control
// characters and bounded in length; a filter or sort key is one of its words, a number is in
// its range, an id is a GUID, a date a date. The first value that fails is kept in err as a
// 400 (a problem document for the API, the error page for browsers), like bufio.Scanner's Err:
// a parser reads every parameter and checks err once. Parameters nobody reads are ignored.
type query struct {
	values url.Values
	err    error
}

// queryOf reads r's query.
func queryOf(r *http.Request) *query { return parseQuery(r.URL.RawQuery) }

// parseQuery reads a raw query string. Pairs whose escapes are malformed are left out, as
// net/http's Request.URL.Query does.
func parseQuery(raw string) *query {
	v, _ := url.ParseQuery(raw)
	return &query{values: v}
}

// Err is the first refusal, a 400, or nil.
func (q *query) Err() error { return q.err }

// fail keeps the first refusal.
func (q *query) fail(detail string) {
	if q.err == nil {
		q.err = badRequest(detail)
	}
}

// has reports whether key is present, even empty.
func (q *query) has(key string) bool {
	_, ok := q.values[key]
	return ok
}

// get is key's first value, "" when absent.
func (q *query) get(key string) string { return q.values.Get(key) }

// text is free text (a search, an email): trimmed, at most max bytes, clean (cleanText).
func (q *query) text(key string, max int, detail string) string {
	v := strings.TrimSpace(q.get(key))
	if !cleanText(v, max) {
		q.fail(detail)
		return ""
	}
	return v
}

// word is a value of a closed set (a sort key, a filter), "" when absent: valid reports
// whether a present value is one of the set.
func (q *query) word(key string, valid func(string) bool, detail string) string {
	v := q.get(key)
	if v != "" && !valid(v) {
		q.fail(detail)
		return ""
	}
	return v
}

// guid is an id (lower-cased), "" when absent.
func (q *query) guid(key, detail string) string {
	return strings.ToLower(q.word(key, onboarding.IsGUID, detail))
}

// number is an integer in [lo, hi]; present is false when key is absent or empty.
func (q *query) number(key string, lo, hi int64, detail string) (n int64, present bool) {
	v := q.get(key)
	if v == "" {
		return 0, false
	}
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil || n < lo || n > hi {
		q.fail(detail)
		return 0, false
	}
	return n, true
}

// requiredNumber is number for a parameter that must be present.
func (q *query) requiredNumber(key string, lo, hi int64, detail string) int64 {
	n, ok := q.number(key, lo, hi, detail)
	if !ok {
		q.fail(detail)
	}
	return n
}

// date is a calendar day (YYYY-MM-DD, UTC), zero when absent.
func (q *query) date(key, detail string) time.Time {
	v := q.get(key)
	if v == "" {
		return time.Time{}
	}
	t, err := time.Parse(time.DateOnly, v)
	if err != nil {
		q.fail(detail)
		return time.Time{}
	}
	return t
}

// cursorKind is what one part of a page cursor is.
type cursorKind string

const (
	cursorTime cursorKind = "time"
	cursorText cursorKind = "text"
	cursorInt  cursorKind = "int"
	cursorGUID cursorKind = "guid"
)

// A cursor is a row's sort value and id, "<value>|<id>" in base64url. Both parts are checked
// on the way back: the id is the list's kind of id, the value clean text of the sort's kind
// (a time parses, a number is one).
func encodeCursor(c onboarding.Cursor) string {
	return base64.RawURLEncoding.EncodeToString([]byte(c.Value + "|" + c.ID))
}

// cursor is a page cursor of a list whose ids are of idKind and sort values of valueKind, nil
// when absent.
func (q *query) cursor(key string, idKind, valueKind cursorKind) *onboarding.Cursor {
	raw := q.get(key)
	if raw == "" || q.Err() != nil {
		return nil
	}
	c, err := decodeCursor(raw, idKind, valueKind)
	if err != nil {
		q.fail(key + " is not a page cursor of this list.")
		return nil
	}
	return &c
}

func decodeCursor(s string, idKind, valueKind cursorKind) (onboarding.Cursor, error) {
	if len(s) > maxCursor {
		return onboarding.Cursor{}, errBadCursor
	}
	raw, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil {
		return onboarding.Cursor{}, errBadCursor
	}
	i := strings.LastIndexByte(string(raw), '|')
	if i < 0 {
		return onboarding.Cursor{}, errBadCursor
	}
	c := onboarding.Cursor{Value: string(raw[:i]), ID: strings.ToLower(string(raw[i+1:]))}
	if !cursorPart(c.ID, idKind) || !cursorPart(c.Value, valueKind) {
		return onboarding.Cursor{}, errBadCursor
	}
	return c, nil
}

// cursorPart reports whether v is a cursor part of kind.
func cursorPart(v string, kind cursorKind) bool {
	switch kind {
	case cursorGUID:
		return onboarding.IsGUID(v)
	case cursorInt:
		n, err := strconv.ParseInt(v, 10, 64)
		return err == nil && n > 0
	case cursorTime:
		_, err := time.Parse(time.RFC3339Nano, v)
		return err == nil
	case cursorText:
		return cleanText(v, maxCursor) && len([]rune(v)) <= onboarding.MaxDisplayNameRunes
	}
	return false
}

var errBadCursor = badRequest("bad cursor")

// oneOf returns a validity check for a closed set of words.
func oneOf[S ~string](words ...S) func(string) bool {
	return func(v string) bool {
		for _, w := range words {
			if string(w) == v {
				return true
			}
		}
		return false
	}
}

// cleanText reports whether s may reach the database as text: valid UTF-8 without control
// characters (NUL among them), at most max bytes. Query values and the parts of a page cursor
// are held to it.
func cleanText(s string, max int) bool {
	return len(s) <= max && utf8.ValidString(s) && strings.IndexFunc(s, unicode.IsControl) < 0
}

// cloneValues copies a query, for the links of a list's other pages.
func cloneValues(v url.Values) url.Values {
	out := url.Values{}
	for k, vs := range v {
		out[k] = slices.Clone(vs)
	}
	return out
}
