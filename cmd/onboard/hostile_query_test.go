package main

import (
	"encoding/base64"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
)

// hostileValues are query values that have reached PostgreSQL as text it refuses (NUL,
// invalid UTF-8: SQLSTATE 22021) or that stretch a parser: control characters, a long value,
// numbers out of range, a word of no vocabulary; and for a cursor, cursors with a bad part.
func hostileValues(key string) []string {
	if strings.HasSuffix(key, "after") || strings.HasSuffix(key, "before") {
		cursor := func(raw string) string { return base64.RawURLEncoding.EncodeToString([]byte(raw)) }
		id := newUUID()
		return []string{"%FF", cursor("\xff|" + id), cursor("\x00|" + id), cursor("a\x00|" + id),
			cursor(strings.Repeat("a", 900) + "|" + id), cursor("a|" + id + "\x00"), cursor("99999999999999999999|1")}
	}
	return []string{"%00", "%FF", "a%01b%C3%28", strings.Repeat("%C3%A9", 2000), "-1", "99999999999999999999", "zz"}
}

// queryKeyRE finds the parameters the handlers read through the query layer
// (internal/web/query.go): q.word("sort", …), queryOf(r).get("next"), …
var queryKeyRE = regexp.MustCompile(`(?:\bq|queryOf\(r\))\.(?:text|word|guid|number|requiredNumber|date|get|has|cursor)\("([a-z_]+)"`)

// hostileKeys are the query parameters to send hostile values in: every one a handler reads
// (found in the sources, so a new one is covered without anyone remembering to), /live's own
// grammar, and the combinations that reach a second parser: a name cursor, a CSV export.
func hostileKeys(t *testing.T) []string {
	t.Helper()
	files, err := filepath.Glob("../../internal/web/*.go")
	if err != nil {
		t.Fatal(err)
	}
	keys := []string{"draft", "rev", "view", "version", "delta", "presence", "sort=name&after", "sort=status&before", "format=csv&actor", "format=csv&action", "format=csv&q", "format=csv&tenant"}
	for _, f := range files {
		if strings.HasSuffix(f, "_test.go") {
			continue
		}
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range queryKeyRE.FindAllStringSubmatch(string(b), -1) {
			keys = append(keys, m[1])
		}
	}
	slices.Sort(keys)
	keys = slices.Compact(keys)
	if len(keys) < 20 {
		t.Fatalf("only %d query parameters found (%v): has the query layer moved?", len(keys), keys)
	}
	return keys
}

// hostileSenders is how many requests each actor has in flight.
const hostileSenders = 8

// TestHostileQueries sends hostile query values to every GET route of the router (chi.Walk)
// as the owner, an operator and a viewer of acme and a user of no workspace. Whatever the
// value, the answer is never a 5xx: bad input is a 400 (or the 404 of an id of nothing), not
// a database error. The owner, who reaches every handler, sends each parameter alone with
// each value, so that no earlier refusal hides a later parser; the other roles, whose
// answers differ only in authorization, send each value in every parameter at once. Both
// send whole queries that are malformed.
func TestHostileQueries(t *testing.T) {
	t.Parallel()
	m := newMatrixRig(t)
	ids := m.seeds["acme"]
	fill := strings.NewReplacer("{ws}", "acme", "{id}", ids.draft, "{run_id}", ids.run, "{user_id}", ids.user,
		"{session_id}", "x", "/*", "/css/app.css")
	var paths []string
	for _, route := range walkRoutes(t) {
		if method, pattern, _ := strings.Cut(route, " "); method == http.MethodGet {
			paths = append(paths, fill.Replace(pattern))
		}
	}
	malformed := []string{"%FF=1", "%00", "a=%zz&q=%00", "q=1;q=%00", strings.Repeat("sort=zz&", 500)}
	keys := hostileKeys(t)
	oneByOne := slices.Clone(malformed)
	for _, k := range keys {
		for _, v := range hostileValues(k) {
			oneByOne = append(oneByOne, k+"="+v)
		}
	}
	allAtOnce := slices.Clone(malformed)
	for _, v := range hostileValues("") {
		allAtOnce = append(allAtOnce, strings.Join(keys, "="+v+"&")+"="+v)
	}
	var sent atomic.Int64
	for actor, queries := range map[string][]string{"owner@acme.test": oneByOne, "operator@acme.test": allAtOnce,
		"viewer@acme.test": allAtOnce, "nonmember@acme.test": allAtOnce} {
		t.Run(actor, func(t *testing.T) {
			t.Parallel()
			c := *m.clients[actor] // its cookies, with a connection per sender kept open
			tr := &http.Transport{MaxIdleConnsPerHost: hostileSenders}
			t.Cleanup(tr.CloseIdleConnections)
			c.Transport = tr
			// The requests wait on the server far more than they compute: hostileSenders of
			// them at a time (one after another, the owner's 8,000 took 40 s alone and over
			// four minutes beside the browser tests).
			work := make(chan string)
			var wg sync.WaitGroup
			for range hostileSenders {
				wg.Go(func() {
					for url := range work {
						req, _ := http.NewRequest(http.MethodGet, url, nil)
						if strings.HasPrefix(strings.TrimPrefix(url, m.base), "/admin") {
							req.Header.Set("Accept", "text/html")
						}
						resp, err := c.Do(req)
						if err != nil {
							t.Error(err)
							continue
						}
						body, _ := io.ReadAll(resp.Body)
						resp.Body.Close()
						sent.Add(1)
						if resp.StatusCode >= 500 {
							t.Errorf("GET %.300s = %d: %.200s", strings.TrimPrefix(url, m.base), resp.StatusCode, body)
						}
					}
				})
			}
			for _, p := range paths {
				for _, q := range queries {
					work <- m.base + p + "?" + q
				}
			}
			close(work)
			wg.Wait()
		})
	}
	t.Cleanup(func() { t.Logf("%d requests sent", sent.Load()) })
}
