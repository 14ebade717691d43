package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"testing"

	"github.com/go-chi/chi/v5"

	"github.com/tenantops/onboard/internal/web"
)

// matrixActors are who sends each request: nobody, a user with no workspace, each acme role,
// and the owner of the other workspace (globex).
var matrixActors = []string{"anonymous", "nonmember@acme.test", "viewer@acme.test", "operator@acme.test", "owner@acme.test", "owner@globex.test"}

// matrixTargets: an acme draft and run ("own", acme's from acme's point of view), globex's
// draft and run addressed under acme ("foreign"), and ids or a workspace of nothing.
var matrixTargets = []string{"own", "foreign", "nonexistent"}

// walkRoutes lists every route of the router as "METHOD pattern".
func walkRoutes(t *testing.T) []string {
	t.Helper()
	srv := web.New(web.Config{}, web.Deps{Logger: slog.New(slog.DiscardHandler)})
	var routes []string
	err := chi.Walk(srv.Routes(), func(method, route string, _ http.Handler, _ ...func(http.Handler) http.Handler) error {
		routes = append(routes, method+" "+route)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return routes
}

// matrixIDs are the draft and run of one workspace, made through the API, and its owner's
// user id (the one member whose removal or role change is always refused: the last owner).
type matrixIDs struct{ draft, run, user, invitation string }

func matrixSeed(t *testing.T, base, email, ws string) matrixIDs {
	t.Helper()
	c := client(t, base, email)
	call := func(method, path, body, ifMatch string, want int) (map[string]any, string) {
		t.Helper()
		req, _ := http.NewRequest(method, base+"/api/v1/workspaces/"+ws+path, strings.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		if ifMatch != "" {
			req.Header.Set("If-Match", ifMatch)
		}
		resp, err := c.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var out map[string]any
		_ = json.NewDecoder(resp.Body).Decode(&out)
		if resp.StatusCode != want {
			t.Fatalf("%s %s = %d, want %d: %v", method, path, resp.StatusCode, want, out)
		}
		return out, resp.Header.Get("ETag")
	}
	d, etag := call(http.MethodPost, "/onboarding/drafts", fmt.Sprintf(`{"tenant_id":%q,"display_name":"Matrix","primary_domain":"matrix.healthy.test"}`, newUUID()), "", http.StatusCreated)
	id := d["id"].(string)
	_, etag = call(http.MethodPatch, "/onboarding/drafts/"+id, fmt.Sprintf(`{"provider_connection":{"client_id":%q,"client_secret":"matrix-secret"}}`, newUUID()), etag, http.StatusOK)
	out, _ := call(http.MethodPost, "/onboarding/drafts/"+id+"/verification", `{}`, etag, http.StatusAccepted)
	return matrixIDs{draft: id, run: out["run"].(map[string]any)["id"].(string)}
}

// matrixPublic: the expected status of each route outside a workspace, for an anonymous
// client and for a signed-in one (requests without a body).
var matrixPublic = map[string][2]int{
	"GET /":                          {303, 303},
	"GET /admin":                     {303, 200},
	"GET /admin/login":               {200, 303},
	"POST /admin/login":              {422, 422},
	"POST /admin/logout":             {303, 303},
	"GET /admin/notifications":       {303, 200},
	"POST /admin/notifications/read": {401, 303},
	// The matrix sends the pattern as it is: "{id}" is no notification id.
	"POST /admin/notifications/{id}/read": {401, 404},
	"GET /api/v1/openapi.yaml":            {200, 200},
	// An invitation's link: the token authorizes, signed in or not; "{token}" is no token.
	"GET /admin/invitations/{token}":  {404, 404},
	"POST /admin/invitations/{token}": {404, 404},
	// Profile: the signed-in person's own password and sessions. The matrix's own session
	// survives "sign out other sessions"; no body changes no password.
	"GET /admin/profile":                            {303, 200},
	"POST /admin/profile/password":                  {401, 422},
	"POST /admin/profile/sessions/end":              {401, 303},
	"POST /admin/profile/sessions/{session_id}/end": {401, 404},
	"GET /admin/profile/password":                   {303, 303},
	"GET /admin/profile/sessions/end":               {303, 303},
	"GET /admin/profile/sessions/{session_id}/end":  {303, 303},
	"GET /api/v1/sessions":                          {401, 200},
	"POST /api/v1/sessions/end-others":              {401, 200},
	"DELETE /api/v1/sessions/{session_id}":          {401, 404},
	"PUT /api/v1/password":                          {401, 400},
	"POST /api/v1/session":                          {400, 400},
	"DELETE /api/v1/session":                        {204, 204},
	"GET /healthz":                                  {200, 200},
	"GET /favicon.ico":                              {301, 301},
	"GET /readyz":                                   {200, 200},
	"GET /live":                                     {401, 400},
	"GET /live/poll":                                {401, 400},
	"GET /static/*":                                 {200, 200},
	"HEAD /static/*":                                {200, 200},
}

// matrixOwn: the expected status of each workspace route on the workspace's own draft and
// run, for its viewer, operator and owner. Writes carry neither body, version nor If-Match,
// so they stop at authorization or at the missing precondition and change nothing.
var matrixOwn = map[string][3]int{
	"GET /admin/workspaces/{ws}/audit":          {403, 403, 200},
	"GET /admin/workspaces/{ws}/":               {200, 200, 200},
	"GET /admin/workspaces/{ws}/onboarding":     {200, 200, 200},
	"POST /admin/workspaces/{ws}/onboarding":    {403, 422, 422},
	"GET /admin/workspaces/{ws}/onboarding/new": {403, 200, 200},
	// Cancel selected: owners only; without a confirmation and a selection, a 400.
	"POST /admin/workspaces/{ws}/onboarding/cancellations":   {403, 403, 400},
	"GET /admin/workspaces/{ws}/onboarding/cancellations":    {303, 303, 303},
	"GET /admin/workspaces/{ws}/onboarding/{id}":             {200, 200, 200},
	"POST /admin/workspaces/{ws}/onboarding/{id}/activation": {403, 403, 400},
	// Only operators may ask the owners (owners activate themselves); without a version the
	// operator's form stops at 400.
	"POST /admin/workspaces/{ws}/onboarding/{id}/activation-request": {403, 400, 403},
	"GET /admin/workspaces/{ws}/onboarding/{id}/activation-request":  {303, 303, 303},
	"POST /admin/workspaces/{ws}/onboarding/{id}/bootstrap":          {403, 400, 400},
	"POST /admin/workspaces/{ws}/onboarding/{id}/cancel":             {403, 403, 400},
	"GET /admin/workspaces/{ws}/onboarding/{id}/checkpoint":          {200, 200, 200},
	"GET /admin/workspaces/{ws}/onboarding/{id}/changes":             {200, 200, 200},
	// A form's action URL opened as a page: back to the wizard.
	"GET /admin/workspaces/{ws}/onboarding/{id}/identify":     {303, 303, 303},
	"GET /admin/workspaces/{ws}/onboarding/{id}/connection":   {303, 303, 303},
	"GET /admin/workspaces/{ws}/onboarding/{id}/verification": {303, 303, 303},
	"GET /admin/workspaces/{ws}/onboarding/{id}/bootstrap":    {303, 303, 303},
	"GET /admin/workspaces/{ws}/onboarding/{id}/activation":   {303, 303, 303},
	"GET /admin/workspaces/{ws}/onboarding/{id}/cancel":       {303, 303, 303},
	"GET /admin/workspaces/{ws}/members/":                     {403, 403, 200},
	"POST /admin/workspaces/{ws}/members/":                    {403, 403, 422},
	// The own target is the workspace's only owner: removing them or changing their role is
	// refused (the last owner), so the matrix changes nothing.
	"POST /admin/workspaces/{ws}/members/{user_id}/role":   {403, 403, 409},
	"POST /admin/workspaces/{ws}/members/{user_id}/remove": {403, 403, 409},
	"GET /admin/workspaces/{ws}/members/{user_id}/role":    {403, 403, 303},
	"GET /admin/workspaces/{ws}/members/{user_id}/remove":  {403, 403, 303},
	// Invitations: no body is an invalid email (422). The owner's revoke of the workspace's
	// own pending invitation is the one write the matrix makes (303 back to the list).
	"POST /admin/workspaces/{ws}/members/invitations":                        {403, 403, 422},
	"GET /admin/workspaces/{ws}/members/invitations":                         {403, 403, 303},
	"POST /admin/workspaces/{ws}/members/invitations/{invitation_id}/revoke": {403, 403, 303},
	"GET /admin/workspaces/{ws}/members/invitations/{invitation_id}/revoke":  {403, 403, 303},
	"POST /admin/workspaces/{ws}/onboarding/{id}/connection":                 {403, 400, 400},
	"POST /admin/workspaces/{ws}/onboarding/{id}/identify":                   {403, 400, 400},
	"POST /admin/workspaces/{ws}/onboarding/{id}/step":                       {403, 400, 400},
	"POST /admin/workspaces/{ws}/onboarding/{id}/verification":               {403, 400, 400},
	"GET /admin/workspaces/{ws}/operations":                                  {200, 200, 200},
	"GET /admin/workspaces/{ws}/search":                                      {200, 200, 200},
	"GET /admin/workspaces/{ws}/operations/{run_id}":                         {200, 200, 200},
	// The own run is a verification that is active or succeeded: not retryable, so the page
	// goes back to the run with the reason and the API answers 409; nothing starts.
	"POST /admin/workspaces/{ws}/operations/{run_id}/retry":                  {403, 303, 303},
	"GET /admin/workspaces/{ws}/operations/{run_id}/retry":                   {303, 303, 303},
	"POST /api/v1/workspaces/{ws}/operation-runs/{run_id}/retry":             {403, 409, 409},
	"GET /api/v1/workspaces/{ws}/onboarding/drafts":                          {200, 200, 200},
	"POST /api/v1/workspaces/{ws}/onboarding/drafts":                         {403, 422, 422},
	"GET /api/v1/workspaces/{ws}/onboarding/drafts/{id}":                     {200, 200, 200},
	"PATCH /api/v1/workspaces/{ws}/onboarding/drafts/{id}":                   {403, 428, 428},
	"POST /api/v1/workspaces/{ws}/onboarding/drafts/{id}/activation":         {403, 403, 428},
	"POST /api/v1/workspaces/{ws}/onboarding/drafts/{id}/activation-request": {403, 428, 403},
	"POST /api/v1/workspaces/{ws}/onboarding/drafts/{id}/bootstrap":          {403, 428, 428},
	"POST /api/v1/workspaces/{ws}/onboarding/drafts/{id}/cancellation":       {403, 403, 428},
	"POST /api/v1/workspaces/{ws}/onboarding/drafts/{id}/verification":       {403, 428, 428},
	"GET /api/v1/workspaces/{ws}/operation-runs":                             {200, 200, 200},
	"GET /api/v1/workspaces/{ws}/operation-runs/{run_id}":                    {200, 200, 200},
}

// matrixOther: for routes where a member's answer on another workspace's target or a target
// of nothing is not 404, that answer for the viewer, operator and owner — the same for both
// targets, with the same body. The members pages are guarded by their capability first (403:
// a member who may not manage members learns nothing about user ids), and their form URLs
// opened as pages lead back to the list whatever the id.
var matrixOther = map[string][3]int{
	"POST /admin/workspaces/{ws}/members/{user_id}/role":                     {403, 403, 404},
	"POST /admin/workspaces/{ws}/members/{user_id}/remove":                   {403, 403, 404},
	"GET /admin/workspaces/{ws}/members/{user_id}/role":                      {403, 403, 303},
	"GET /admin/workspaces/{ws}/members/{user_id}/remove":                    {403, 403, 303},
	"POST /admin/workspaces/{ws}/members/invitations/{invitation_id}/revoke": {403, 403, 404},
	"GET /admin/workspaces/{ws}/members/invitations/{invitation_id}/revoke":  {403, 403, 303},
}

// matrixQuery: the query a route needs to get past its own 400 (to authorization).
var matrixQuery = map[string]string{
	"GET /admin/workspaces/{ws}/onboarding/{id}/changes": "?since=0",
}

var roleIndex = map[string]int{"viewer": 0, "operator": 1, "owner": 2}

// matrixRoles: each actor's role in each workspace ("" = none).
var matrixRoles = map[string]map[string]string{
	"viewer@acme.test":   {"acme": "viewer"},
	"operator@acme.test": {"acme": "operator"},
	"owner@acme.test":    {"acme": "owner"},
	"owner@globex.test":  {"globex": "owner"},
}

// TestAuthorizationMatrix sends every route of the router (chi.Walk: a new route fails the
// test until it is given its expected statuses) as every actor to every target and checks the
// status; where it is 404, the body is byte-identical to the 404 of a target that does not
// exist, so a non-member or a foreign id learns nothing.
func TestAuthorizationMatrix(t *testing.T) {
	t.Parallel()
	m := newMatrixRig(t)
	var checked int
	for _, route := range walkRoutes(t) {
		method, pattern, _ := strings.Cut(route, " ")
		if strings.Contains(pattern, "{ws}") {
			checked += m.checkScoped(t, route, method, pattern)
		} else {
			checked += m.checkPublic(t, route, method, pattern)
		}
	}
	t.Logf("%d requests checked", checked)
}

// matrixRig is the app the matrix runs against: a client per actor and the ids of each
// workspace's own draft, run and owner.
type matrixRig struct {
	base    string
	clients map[string]*http.Client
	seeds   map[string]matrixIDs
}

func newMatrixRig(t *testing.T) *matrixRig {
	t.Helper()
	base, conn := startAppOnDB(t, nil)
	if _, err := conn.Exec(context.Background(), `INSERT INTO users (email, password_hash)
		SELECT 'nonmember@acme.test', password_hash FROM users WHERE email = 'owner@acme.test'`); err != nil {
		t.Fatal(err)
	}
	seeds := map[string]matrixIDs{
		"acme":   matrixSeed(t, base, "owner@acme.test", "acme"),
		"globex": matrixSeed(t, base, "owner@globex.test", "globex"),
	}
	for ws, email := range map[string]string{"acme": "owner@acme.test", "globex": "owner@globex.test"} {
		ids := seeds[ws]
		if err := conn.QueryRow(context.Background(), `SELECT id::text FROM users WHERE email = $1`, email).Scan(&ids.user); err != nil {
			t.Fatal(err)
		}
		// A pending invitation of the workspace (its token is never needed).
		if err := conn.QueryRow(context.Background(), `INSERT INTO workspace_invitations (workspace_id, email, role, token_hash, created_at, expires_at)
			SELECT id, 'invited@' || slug || '.test', 'viewer', sha256(convert_to(slug, 'UTF8')), now(), now() + interval '7 days'
			FROM workspaces WHERE slug = $1 RETURNING id::text`, ws).Scan(&ids.invitation); err != nil {
			t.Fatal(err)
		}
		seeds[ws] = ids
	}
	m := &matrixRig{base: base, seeds: seeds, clients: map[string]*http.Client{"anonymous": {CheckRedirect: noRedirect}}}
	for _, a := range matrixActors[1:] {
		m.clients[a] = m.signedIn(t, a)
	}
	return m
}

func noRedirect(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }

// matrixNothing names a draft, a run and a user that do not exist.
func matrixNothing() matrixIDs {
	return matrixIDs{newUUID(), newUUID(), "2000000000", "2000000000"}
}

// signedIn is a new session of actor a that does not follow redirects.
func (m *matrixRig) signedIn(t *testing.T, a string) *http.Client {
	c := client(t, m.base, a)
	c.CheckRedirect = noRedirect
	return c
}

// send requests path as c with a well-formed body where the route takes one, so that the
// request reaches authorization; it returns the status and body.
func (m *matrixRig) send(t *testing.T, c *http.Client, method, path string) (int, string) {
	t.Helper()
	t.Helper()
	var body io.Reader
	if strings.HasPrefix(path, "/api/v1/workspaces/") && method != http.MethodGet {
		// Well-formed, so that the request reaches authorization; no If-Match.
		json := `{}`
		switch {
		case method == http.MethodPatch:
			json = `{"display_name":"Matrix"}`
		case strings.HasSuffix(path, "/bootstrap"):
			json = `{"operations":["inventory_sync"]}`
		}
		body = strings.NewReader(json)
	}
	ct := "application/json"
	if strings.HasPrefix(path, "/admin/") && strings.HasSuffix(path, "/role") && method == http.MethodPost {
		// A valid role, so that the change reaches the member lookup.
		body, ct = strings.NewReader("role=viewer"), "application/x-www-form-urlencoded"
	}
	req, _ := http.NewRequest(method, m.base+path, body)
	if body != nil {
		req.Header.Set("Content-Type", ct)
	}
	if strings.HasPrefix(path, "/admin/") && method == http.MethodGet {
		req.Header.Set("Accept", "text/html")
	}
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// checkPublic checks a route outside any workspace for every actor; it returns the requests
// sent.
func (m *matrixRig) checkPublic(t *testing.T, route, method, pattern string) int {
	want, ok := matrixPublic[route]
	if !ok {
		t.Errorf("route %s has no expected statuses in matrixPublic", route)
		return 0
	}
	checked := 0
	path := strings.Replace(pattern, "/*", "/css/app.css", 1)
	for _, a := range matrixActors {
		c, w := m.clients[a], want[1]
		if a == "anonymous" {
			w = want[0]
		} else if route == "POST /admin/logout" || route == "DELETE /api/v1/session" {
			c = m.signedIn(t, a) // it ends the session: not the one the other routes use
		}
		if got, _ := m.send(t, c, method, path); got != w {
			t.Errorf("%s as %s = %d, want %d", route, a, got, w)
		}
		checked++
	}
	return checked
}

// checkScoped checks a workspace route for every actor on its own, a foreign and a
// nonexistent target: the expected status, and a 404 byte-identical to a target of nothing.
// It returns the requests sent.
func (m *matrixRig) checkScoped(t *testing.T, route, method, pattern string) int {
	checked := 0
	own, ok := matrixOwn[route]
	if !ok {
		t.Errorf("route %s has no expected statuses in matrixOwn", route)
	}
	hasID := strings.Contains(pattern, "{id}") || strings.Contains(pattern, "{run_id}") || strings.Contains(pattern, "{user_id}") ||
		strings.Contains(pattern, "{invitation_id}")
	for _, a := range matrixActors {
		// The reference 404: a workspace of nothing, or (with ids) an id of nothing in acme.
		refWS := "no-such-ws"
		if hasID {
			refWS = "acme"
		}
		fill := func(ws string, ids matrixIDs) string {
			return strings.NewReplacer("{ws}", ws, "{id}", ids.draft, "{run_id}", ids.run, "{user_id}", ids.user,
				"{invitation_id}", ids.invitation).Replace(pattern) + matrixQuery[route]
		}
		refCode, refBody := m.send(t, m.clients[a], method, fill(refWS, matrixNothing()))
		for _, target := range matrixTargets {
			ws, ids := "acme", m.seeds["acme"]
			switch {
			case target == "nonexistent":
				ws, ids = refWS, matrixNothing()
			case target == "foreign" && hasID:
				ids = m.seeds["globex"] // globex's ids under acme
			case target == "foreign":
				ws = "globex"
			}
			role := matrixRoles[a][ws]
			var want int
			switch {
			case a == "anonymous" && strings.HasPrefix(pattern, "/api/"), a == "anonymous" && method != http.MethodGet:
				want = http.StatusUnauthorized
			case a == "anonymous":
				want = http.StatusSeeOther
			case role == "":
				want = http.StatusNotFound
			case target != "own" && hasID:
				want = http.StatusNotFound
				if o, ok := matrixOther[route]; ok {
					want = o[roleIndex[role]]
				}
			default:
				want = own[roleIndex[role]]
			}
			code, body := m.send(t, m.clients[a], method, fill(ws, ids))
			checked++
			if code != want {
				t.Errorf("%s as %s on %s (%s) = %d, want %d", route, a, target, fill(ws, ids), code, want)
				continue
			}
			_, other := matrixOther[route]
			sameAsNothing := want == http.StatusNotFound || other && target != "own" && role != ""
			if sameAsNothing && (refCode != want || body != refBody) {
				t.Errorf("%s as %s on %s: the 404 body differs from the one of a target of nothing:\n%s", route, a, target, firstDifference(body, refBody))
			}
		}
	}
	if !ok { // what the route answers now, to review and paste into matrixOwn
		var got [3]int
		for i, a := range []string{"viewer@acme.test", "operator@acme.test", "owner@acme.test"} {
			got[i], _ = m.send(t, m.clients[a], method, strings.NewReplacer("{ws}", "acme", "{id}", m.seeds["acme"].draft, "{run_id}", m.seeds["acme"].run, "{user_id}", m.seeds["acme"].user,
				"{invitation_id}", m.seeds["acme"].invitation).Replace(pattern)+matrixQuery[route])
		}
		t.Logf("%q: {%d, %d, %d},", route, got[0], got[1], got[2])
	}
	return checked
}

// firstDifference shows where two bodies first differ, with some context before it.
func firstDifference(a, b string) string {
	i := 0
	for i < len(a) && i < len(b) && a[i] == b[i] {
		i++
	}
	from := max(i-120, 0)
	return fmt.Sprintf("at byte %d of %d and %d:\n…%.300s\n…%.300s", i, len(a), len(b), a[from:], b[from:])
}
