package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/legacy"

	"github.com/tenantops/onboard/internal/onboarding"
)

// apiClient sends API requests and checks every response against the OpenAPI document the
// server itself serves: status, declared headers and body schema (JSON Schema 2020-12, as the
// document is 3.1). It keeps every response so a test can scan them all for secrets.
type apiClient struct {
	base   string
	router routers.Router

	mu        sync.Mutex
	responses []string
}

// newAPIClient loads /api/v1/openapi.yaml from the server at base.
func newAPIClient(t *testing.T, base string) *apiClient {
	t.Helper()
	resp, err := http.Get(base + "/api/v1/openapi.yaml")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET /api/v1/openapi.yaml = %d, want 200", resp.StatusCode)
	}
	doc, err := openapi3.NewLoader().LoadFromData(raw)
	if err != nil {
		t.Fatalf("load the served OpenAPI document: %v", err)
	}
	if !doc.IsOpenAPI31OrLater() {
		t.Fatalf("served document is OpenAPI %q, want 3.1", doc.OpenAPI)
	}
	if err := doc.Validate(context.Background()); err != nil {
		t.Fatalf("served document is invalid: %v", err)
	}
	// The document's server is relative (/api/v1); anchor it at this test's server.
	doc.Servers = openapi3.Servers{{URL: base + "/api/v1"}}
	router, err := legacy.NewRouter(doc)
	if err != nil {
		t.Fatalf("router: %v", err)
	}
	return &apiClient{base: base, router: router}
}

// apiResponse is one response, read in full.
type apiResponse struct {
	Status int
	Header http.Header
	Body   []byte
}

// object decodes the body as a JSON object.
func (r apiResponse) object(t *testing.T) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(r.Body, &m); err != nil {
		t.Fatalf("body is not a JSON object: %v\n%s", err, r.Body)
	}
	return m
}

// list decodes the body as a JSON array of objects.
func (r apiResponse) list(t *testing.T) []map[string]any {
	t.Helper()
	var l []map[string]any
	if err := json.Unmarshal(r.Body, &l); err != nil {
		t.Fatalf("body is not a JSON list: %v\n%s", err, r.Body)
	}
	return l
}

// do sends method path (relative to /api/v1) with body (none when "") and headers given as
// name, value pairs, and validates the response against the document.
func (a *apiClient) do(t *testing.T, c *http.Client, method, path, body string, headers ...string) apiResponse {
	t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, a.base+"/api/v1"+path, rd)
	if err != nil {
		t.Fatal(err)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	a.mu.Lock()
	a.responses = append(a.responses, fmt.Sprint(resp.Header)+"\n"+string(b))
	a.mu.Unlock()
	out := apiResponse{Status: resp.StatusCode, Header: resp.Header, Body: b}
	a.validate(t, req, out)
	return out
}

// validate fails the test when the response does not match the document.
func (a *apiClient) validate(t *testing.T, req *http.Request, r apiResponse) {
	t.Helper()
	if err := a.check(req, r); err != nil {
		t.Errorf("OpenAPI: response to %s %s (%d) does not match the document: %v\n%s", req.Method, req.URL.Path, r.Status, err, r.Body)
	}
}

// check validates one response to req against the document.
func (a *apiClient) check(req *http.Request, r apiResponse) error {
	route, params, err := a.router.FindRoute(req)
	if err != nil {
		return fmt.Errorf("%s %s is not documented: %w", req.Method, req.URL.Path, err)
	}
	in := &openapi3filter.ResponseValidationInput{
		RequestValidationInput: &openapi3filter.RequestValidationInput{Request: req, PathParams: params, Route: route},
		Status:                 r.Status,
		Header:                 r.Header,
		Options:                &openapi3filter.Options{IncludeResponseStatus: true, MultiError: true},
	}
	in.SetBodyBytes(r.Body)
	return openapi3filter.ValidateResponse(context.Background(), in)
}

// assertNoSecret fails when secret appears in any response (headers or body) received so far.
func (a *apiClient) assertNoSecret(t *testing.T, secret string) {
	t.Helper()
	a.mu.Lock()
	defer a.mu.Unlock()
	if len(a.responses) == 0 {
		t.Fatal("no responses recorded")
	}
	for _, r := range a.responses {
		if strings.Contains(r, secret) {
			t.Errorf("a response contains the client secret:\n%s", r)
		}
	}
}

func wantStatus(t *testing.T, what string, r apiResponse, want int) {
	t.Helper()
	if r.Status != want {
		t.Fatalf("%s: status = %d, want %d\n%s", what, r.Status, want, r.Body)
	}
}

// apiSetup starts the app and signs in every demo user.
type apiSetup struct {
	api                                   *apiClient
	anon, owner, operator, viewer, globex *http.Client
}

func setupAPI(t *testing.T) *apiSetup {
	t.Helper()
	// No workers: runs stay queued, so the API's start/dedupe semantics are deterministic
	// (TestScenarios drives runs through the real workers).
	base := startApp(t, map[string]string{"WORKERS": "0"})
	return &apiSetup{
		api:      newAPIClient(t, base),
		anon:     &http.Client{},
		owner:    client(t, base, "owner@acme.test"),
		operator: client(t, base, "operator@acme.test"),
		viewer:   client(t, base, "viewer@acme.test"),
		globex:   client(t, base, "owner@globex.test"),
	}
}

// createDraft creates a draft in ws as c and returns its id.
func (s *apiSetup) createDraft(t *testing.T, c *http.Client, ws string) string {
	t.Helper()
	r := s.api.do(t, c, http.MethodPost, "/workspaces/"+ws+"/onboarding/drafts",
		fmt.Sprintf(`{"tenant_id":%q,"display_name":"Tenant","primary_domain":"tenant.example.com"}`, onboarding.NewGUID()))
	wantStatus(t, "create draft", r, http.StatusCreated)
	return r.object(t)["id"].(string)
}

// version returns the current version of an acme draft, as its ETag.
func (s *apiSetup) etag(t *testing.T, id string) string {
	t.Helper()
	r := s.api.do(t, s.owner, http.MethodGet, "/workspaces/acme/onboarding/drafts/"+id, "")
	wantStatus(t, "get draft", r, http.StatusOK)
	return r.Header.Get("ETag")
}

func draftPath(id string) string { return "/workspaces/acme/onboarding/drafts/" + id }

// apiSecret is the client secret the API tests send; no response may ever contain it.
const apiSecret = "very-secret-value-0f9c2d71"

// TestAPIDrafts shares one app among focused subtests (apiSetup methods below).
func TestAPIDrafts(t *testing.T) {
	t.Parallel()
	s := setupAPI(t)
	t.Cleanup(func() { s.api.assertNoSecret(t, apiSecret) })

	t.Run("ValidatorRefusesMismatches", s.apiValidatorRefusesMismatches)
	t.Run("CreateInvalidChangesNothing", s.apiCreateInvalidChangesNothing)
	t.Run("CreateAndResume", s.apiCreateAndResume)
	t.Run("GetConditional", s.apiGetConditional)
	t.Run("Patch", s.apiPatch)
	t.Run("RunsAndActions", s.apiRunsAndActions)
	t.Run("WriteBadRequests", s.apiWriteBadRequests)
	t.Run("Precedence", s.apiPrecedence)
}

// The validator itself must refuse what the document does not allow, or every other
// check of this test would pass vacuously.
func (s *apiSetup) apiValidatorRefusesMismatches(t *testing.T) {
	id := s.createDraft(t, s.owner, "acme")
	good := s.api.do(t, s.owner, http.MethodGet, draftPath(id), "")
	wantStatus(t, "get", good, http.StatusOK)
	req, _ := http.NewRequest(http.MethodGet, s.api.base+"/api/v1"+draftPath(id), nil)
	jsonCT := http.Header{"Content-Type": {"application/json"}}
	for _, tc := range []struct {
		name string
		r    apiResponse
	}{
		{"MissingRequiredField", apiResponse{200, jsonCT, []byte(`{"id":"` + id + `"}`)}},
		{"WrongType", apiResponse{200, jsonCT, []byte(`{"id":1}`)}},
		{"NullVersion", apiResponse{200, jsonCT, bytes.Replace(good.Body, []byte(`"version":`), []byte(`"version":null,"x":`), 1)}},
		{"MissingETag", apiResponse{200, jsonCT, good.Body}},
		{"UndocumentedStatus", apiResponse{http.StatusTeapot, jsonCT, good.Body}},
		{"WrongContentType", apiResponse{200, http.Header{"Content-Type": {"text/html"}}, good.Body}},
		{"ProblemWithoutTitle", apiResponse{404, http.Header{"Content-Type": {"application/problem+json"}}, []byte(`{"type":"about:blank","status":404}`)}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if err := s.api.check(req, tc.r); err == nil {
				t.Errorf("validator accepted %d %s", tc.r.Status, tc.r.Body)
			}
		})
	}
	if err := s.api.check(req, good); err != nil {
		t.Errorf("validator refused the real response: %v", err)
	}
}

// Runs first and alone (the parallel subtests wait), so the list it compares is stable.
func (s *apiSetup) apiCreateInvalidChangesNothing(t *testing.T) {
	before := s.api.do(t, s.owner, http.MethodGet, "/workspaces/acme/onboarding/drafts", "")
	wantStatus(t, "list", before, http.StatusOK)
	guid := onboarding.NewGUID()
	for _, tc := range []struct {
		name, body string
		want       int
		fields     []string
	}{
		{"TenantIDNotGUID", `{"tenant_id":"not-a-guid","display_name":"A","primary_domain":"a.example.com"}`, 422, []string{"tenant_id"}},
		{"BadDomain", `{"tenant_id":"` + guid + `","display_name":"A","primary_domain":"not a domain"}`, 422, []string{"primary_domain"}},
		{"NameTooLong", `{"tenant_id":"` + guid + `","display_name":"` + strings.Repeat("n", 201) + `","primary_domain":"a.example.com"}`, 422, []string{"display_name"}},
		{"AllBad", `{"tenant_id":"x","display_name":"` + strings.Repeat("n", 201) + `","primary_domain":"localhost"}`, 422, []string{"tenant_id", "display_name", "primary_domain"}},
		{"MalformedJSON", `{"tenant_id":`, 400, nil},
		{"UnknownField", `{"tenant_id":"` + guid + `","display_name":"A","primary_domain":"a.example.com","admin":true}`, 400, nil},
		{"TrailingData", `{"tenant_id":"` + guid + `","display_name":"A","primary_domain":"a.example.com"} {}`, 400, nil},
		{"WrongType", `{"tenant_id":1}`, 400, nil},
		{"Oversized", `{"tenant_id":"` + guid + `","display_name":"` + strings.Repeat("n", 70<<10) + `","primary_domain":"a.example.com"}`, 413, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := s.api.do(t, s.owner, http.MethodPost, "/workspaces/acme/onboarding/drafts", tc.body)
			wantStatus(t, "create", r, tc.want)
			if got := r.Header.Get("Content-Type"); got != "application/problem+json" {
				t.Errorf("content type = %q, want application/problem+json", got)
			}
			errs, _ := r.object(t)["errors"].(map[string]any)
			if len(errs) != len(tc.fields) {
				t.Errorf("errors = %v, want exactly the fields %v", errs, tc.fields)
			}
			for _, f := range tc.fields {
				if msg, _ := errs[f].(string); msg == "" {
					t.Errorf("errors[%q] missing in %v", f, errs)
				}
			}
		})
	}
	after := s.api.do(t, s.owner, http.MethodGet, "/workspaces/acme/onboarding/drafts", "")
	if !bytes.Equal(before.Body, after.Body) {
		t.Errorf("drafts changed after refused creates:\nbefore %s\nafter  %s", before.Body, after.Body)
	}
}

func (s *apiSetup) apiCreateAndResume(t *testing.T) {
	t.Parallel()
	tenant := onboarding.NewGUID()
	body := fmt.Sprintf(`{"tenant_id":%q,"display_name":"Contoso","primary_domain":"contoso.example.com"}`, tenant)
	r := s.api.do(t, s.operator, http.MethodPost, "/workspaces/acme/onboarding/drafts", body)
	wantStatus(t, "create", r, http.StatusCreated)
	d := r.object(t)
	id, _ := d["id"].(string)
	if got, want := r.Header.Get("ETag"), `"1"`; got != want {
		t.Errorf("ETag = %q, want %q", got, want)
	}
	if got, want := r.Header.Get("Location"), "/api/v1/workspaces/acme/onboarding/drafts/"+id; got != want {
		t.Errorf("Location = %q, want %q", got, want)
	}
	if got, want := d["version"], 1.0; got != want {
		t.Errorf("version = %v, want %v", got, want)
	}
	if got, want := d["tenant_id"], tenant; got != want {
		t.Errorf("tenant_id = %v, want %v", got, want)
	}

	again := s.api.do(t, s.owner, http.MethodPost, "/workspaces/acme/onboarding/drafts",
		fmt.Sprintf(`{"tenant_id":%q,"display_name":"Other name","primary_domain":"other.example.com"}`, strings.ToUpper(tenant)))
	wantStatus(t, "create again", again, http.StatusOK)
	if got := again.object(t)["id"]; got != id {
		t.Errorf("resumed id = %v, want %v", got, id)
	}
	if got := again.object(t)["display_name"]; got != "Contoso" {
		t.Errorf("resume changed display_name to %v", got)
	}
	list := s.api.do(t, s.viewer, http.MethodGet, "/workspaces/acme/onboarding/drafts", "")
	wantStatus(t, "list", list, http.StatusOK)
	n := 0
	for _, d := range list.list(t) {
		if d["tenant_id"] == tenant {
			n++
		}
	}
	if n != 1 {
		t.Errorf("drafts of the tenant = %d, want 1", n)
	}
}

func (s *apiSetup) apiGetConditional(t *testing.T) {
	t.Parallel()
	id := s.createDraft(t, s.owner, "acme")
	r := s.api.do(t, s.viewer, http.MethodGet, draftPath(id), "")
	wantStatus(t, "get", r, http.StatusOK)
	if got, want := r.Header.Get("ETag"), `"1"`; got != want {
		t.Fatalf("ETag = %q, want %q", got, want)
	}
	r = s.api.do(t, s.viewer, http.MethodGet, draftPath(id), "", "If-None-Match", `"1"`)
	wantStatus(t, "If-None-Match current", r, http.StatusNotModified)
	if len(r.Body) != 0 {
		t.Errorf("304 body = %q, want empty", r.Body)
	}
	if got, want := r.Header.Get("ETag"), `"1"`; got != want {
		t.Errorf("304 ETag = %q, want %q", got, want)
	}
	r = s.api.do(t, s.owner, http.MethodPatch, draftPath(id), `{"display_name":"Renamed"}`, "If-Match", `"1"`)
	wantStatus(t, "patch", r, http.StatusOK)
	r = s.api.do(t, s.viewer, http.MethodGet, draftPath(id), "", "If-None-Match", `"1"`)
	wantStatus(t, "If-None-Match stale", r, http.StatusOK)
	if got, want := r.Header.Get("ETag"), `"2"`; got != want {
		t.Errorf("ETag = %q, want %q", got, want)
	}
	if got := r.object(t)["display_name"]; got != "Renamed" {
		t.Errorf("display_name = %v, want Renamed", got)
	}
}

func (s *apiSetup) apiPatch(t *testing.T) {
	t.Parallel()
	id := s.createDraft(t, s.owner, "acme")
	r := s.api.do(t, s.operator, http.MethodPatch, draftPath(id), `{"display_name":"No precondition"}`)
	wantStatus(t, "no If-Match", r, http.StatusPreconditionRequired)

	r = s.api.do(t, s.operator, http.MethodPatch, draftPath(id), `{"display_name":"Fabrikam"}`, "If-Match", `"1"`)
	wantStatus(t, "current If-Match", r, http.StatusOK)
	if got, want := r.Header.Get("ETag"), `"2"`; got != want {
		t.Errorf("ETag = %q, want %q", got, want)
	}
	d := r.object(t)
	if d["display_name"] != "Fabrikam" || d["version"] != 2.0 || d["updated_by"] != "operator@acme.test" {
		t.Errorf("patched draft = %v, want display_name Fabrikam, version 2, updated_by operator@acme.test", d)
	}

	r = s.api.do(t, s.owner, http.MethodPatch, draftPath(id), `{"display_name":"Lost update"}`, "If-Match", `"1"`)
	wantStatus(t, "stale If-Match", r, http.StatusPreconditionFailed)
	p := r.object(t)
	if got, want := p["current_version"], 2.0; got != want {
		t.Errorf("current_version = %v, want %v", got, want)
	}
	if got, want := p["updated_by"], "operator@acme.test"; got != want {
		t.Errorf("updated_by = %v, want %v", got, want)
	}
	if at, _ := p["updated_at"].(string); at != d["updated_at"] {
		t.Errorf("updated_at = %v, want %v", p["updated_at"], d["updated_at"])
	} else if _, err := time.Parse(time.RFC3339Nano, at); err != nil {
		t.Errorf("updated_at %q: %v", at, err)
	}

	body := fmt.Sprintf(`{"provider_connection":{"client_id":%q,"client_secret":%q}}`, onboarding.NewGUID(), apiSecret)
	r = s.api.do(t, s.owner, http.MethodPatch, draftPath(id), body, "If-Match", `"2"`)
	wantStatus(t, "attach connection", r, http.StatusOK)
	conn, _ := r.object(t)["provider_connection"].(map[string]any)
	if conn == nil || conn["id"] == nil {
		t.Errorf("provider_connection = %v, want an attached connection", r.object(t)["provider_connection"])
	}
	r = s.api.do(t, s.viewer, http.MethodGet, draftPath(id), "")
	wantStatus(t, "get", r, http.StatusOK)
	if got, want := r.Header.Get("ETag"), `"3"`; got != want {
		t.Errorf("ETag = %q, want %q", got, want)
	}
	s.api.do(t, s.owner, http.MethodGet, "/workspaces/acme/onboarding/drafts", "")
}

func (s *apiSetup) apiRunsAndActions(t *testing.T) {
	t.Parallel()
	id := s.createDraft(t, s.owner, "acme")
	r := s.api.do(t, s.operator, http.MethodPost, draftPath(id)+"/verification", "", "If-Match", `"1"`)
	wantStatus(t, "verification without connection", r, http.StatusConflict)
	if code, _ := r.object(t)["reason_code"].(string); code != "provider_connection_missing" {
		t.Errorf("reason_code = %q, want provider_connection_missing", code)
	}

	body := fmt.Sprintf(`{"provider_connection":{"client_id":%q,"client_secret":%q}}`, onboarding.NewGUID(), apiSecret)
	r = s.api.do(t, s.operator, http.MethodPatch, draftPath(id), body, "If-Match", `"1"`)
	wantStatus(t, "attach connection", r, http.StatusOK)
	tag := r.Header.Get("ETag")

	r = s.api.do(t, s.operator, http.MethodPost, draftPath(id)+"/verification", "", "If-Match", tag)
	wantStatus(t, "verification", r, http.StatusAccepted)
	run, _ := r.object(t)["run"].(map[string]any)
	runID, _ := run["id"].(string)
	if runID == "" || run["type"] != "verify_access" {
		t.Fatalf("run = %v, want a verify_access run", run)
	}
	tag = r.Header.Get("ETag")

	r = s.api.do(t, s.owner, http.MethodPost, draftPath(id)+"/verification", "", "If-Match", tag)
	wantStatus(t, "verification again", r, http.StatusOK)
	if got := r.object(t)["run"].(map[string]any)["id"]; got != runID {
		t.Errorf("second verification run = %v, want the active run %v", got, runID)
	}
	if got := r.Header.Get("ETag"); got != tag {
		t.Errorf("deduplicated start changed the version: ETag %q, want %q", got, tag)
	}

	s.assertRunQueries(t, id, runID)
	s.assertActionsRefused(t, id, tag)

	r = s.api.do(t, s.owner, http.MethodPost, draftPath(id)+"/cancellation", "")
	wantStatus(t, "cancellation without If-Match", r, http.StatusPreconditionRequired)
	if got := s.etag(t, id); got != tag {
		t.Fatalf("refused actions changed the draft: ETag %q, want %q", got, tag)
	}
	r = s.api.do(t, s.owner, http.MethodPost, draftPath(id)+"/cancellation", "", "If-Match", tag)
	wantStatus(t, "cancellation", r, http.StatusOK)
	d := r.object(t)
	if d["lifecycle_state"] != "cancelled" || d["cancelled_at"] == nil {
		t.Errorf("cancelled draft = %v, want lifecycle cancelled with cancelled_at", d)
	}
	r = s.api.do(t, s.owner, http.MethodPost, draftPath(id)+"/cancellation", "", "If-Match", r.Header.Get("ETag"))
	wantStatus(t, "cancel twice", r, http.StatusConflict)
}

// assertRunQueries checks the run endpoints for the queued run runID of draft id: by draft,
// by id, filtered, across workspaces and with bad filters.
func (s *apiSetup) assertRunQueries(t *testing.T, id, runID string) {
	t.Helper()
	r := s.api.do(t, s.viewer, http.MethodGet, "/workspaces/acme/operation-runs?draft="+id, "")
	wantStatus(t, "runs of draft", r, http.StatusOK)
	if runs := r.list(t); len(runs) != 1 || runs[0]["id"] != runID {
		t.Errorf("runs of draft = %v, want exactly run %s", runs, runID)
	}
	r = s.api.do(t, s.viewer, http.MethodGet, "/workspaces/acme/operation-runs/"+runID, "")
	wantStatus(t, "run", r, http.StatusOK)
	if got := r.object(t)["status"]; got != "queued" {
		t.Errorf("run status = %v, want queued", got)
	}
	r = s.api.do(t, s.viewer, http.MethodGet, "/workspaces/acme/operation-runs?status=queued&type=verify_access", "")
	wantStatus(t, "filtered runs", r, http.StatusOK)
	found := false
	for _, run := range r.list(t) {
		found = found || run["id"] == runID
		if run["status"] != "queued" || run["type"] != "verify_access" {
			t.Errorf("filter returned %v", run)
		}
	}
	if !found {
		t.Errorf("filtered runs miss %s", runID)
	}
	// Across workspaces: a globex owner sees nothing of acme's runs.
	for _, path := range []string{"/workspaces/globex/operation-runs/" + runID, "/workspaces/acme/operation-runs/" + runID,
		"/workspaces/globex/operation-runs?draft=" + id, "/workspaces/acme/operation-runs?draft=" + id} {
		wantStatus(t, "globex owner GET "+path, s.api.do(t, s.globex, http.MethodGet, path, ""), http.StatusNotFound)
	}
	wantStatus(t, "unknown run", s.api.do(t, s.owner, http.MethodGet, "/workspaces/acme/operation-runs/"+onboarding.NewGUID(), ""), http.StatusNotFound)
	wantStatus(t, "malformed run id", s.api.do(t, s.owner, http.MethodGet, "/workspaces/acme/operation-runs/nope", ""), http.StatusNotFound)
	for _, q := range []string{"status=done", "type=reboot", "status=", "type=bootstrap."} {
		r := s.api.do(t, s.viewer, http.MethodGet, "/workspaces/acme/operation-runs?"+q, "")
		if q == "status=" {
			wantStatus(t, q, r, http.StatusOK) // an empty filter is no filter
			continue
		}
		wantStatus(t, q, r, http.StatusBadRequest)
	}
}

// assertActionsRefused checks that bootstrap and activation are refused, with reasons, while
// the draft's verification has not succeeded (tag is its current ETag).
func (s *apiSetup) assertActionsRefused(t *testing.T, id, tag string) {
	t.Helper()
	r := s.api.do(t, s.operator, http.MethodPost, draftPath(id)+"/bootstrap", `{"operations":["inventory_sync"]}`, "If-Match", tag)
	wantStatus(t, "bootstrap before verification succeeded", r, http.StatusConflict)
	if code, _ := r.object(t)["reason_code"].(string); code == "" {
		t.Errorf("bootstrap 409 without reason_code: %s", r.Body)
	}

	r = s.api.do(t, s.owner, http.MethodPost, draftPath(id)+"/activation", "", "If-Match", tag)
	wantStatus(t, "activation blocked", r, http.StatusConflict)
	if code, _ := r.object(t)["blocking_reason_code"].(string); code == "" {
		t.Errorf("activation 409 without blocking_reason_code: %s", r.Body)
	}
	r = s.api.do(t, s.operator, http.MethodPost, draftPath(id)+"/activation", `{"override_reason":"customer signed off"}`, "If-Match", tag)
	wantStatus(t, "override by operator", r, http.StatusForbidden)
	for _, reason := range []string{`""`, `"   "`} {
		r = s.api.do(t, s.owner, http.MethodPost, draftPath(id)+"/activation", `{"override_reason":`+reason+`}`, "If-Match", tag)
		wantStatus(t, "override with reason "+reason, r, http.StatusUnprocessableEntity)
		if errs, _ := r.object(t)["errors"].(map[string]any); errs["override_reason"] == nil {
			t.Errorf("422 errors = %v, want override_reason", errs)
		}
	}
}

func (s *apiSetup) apiWriteBadRequests(t *testing.T) {
	t.Parallel()
	id := s.createDraft(t, s.owner, "acme")
	huge := `{"display_name":"` + strings.Repeat("n", 70<<10) + `"}`
	for _, a := range []struct{ name, method, suffix string }{
		{"Patch", http.MethodPatch, ""},
		{"Verification", http.MethodPost, "/verification"},
		{"Bootstrap", http.MethodPost, "/bootstrap"},
		{"Activation", http.MethodPost, "/activation"},
		{"Cancellation", http.MethodPost, "/cancellation"},
	} {
		t.Run(a.name, func(t *testing.T) {
			p := draftPath(id) + a.suffix
			for _, tc := range []struct {
				name, body, ifMatch string
				want                int
			}{
				{"MalformedJSON", `{"display_name":`, `"1"`, 400},
				{"UnknownField", `{"nope":true}`, `"1"`, 400},
				{"TrailingData", `{} {}`, `"1"`, 400},
				{"Oversized", huge, `"1"`, 413},
				{"MalformedIfMatch", `{}`, `three`, 400},
			} {
				r := s.api.do(t, s.owner, a.method, p, tc.body, "If-Match", tc.ifMatch)
				wantStatus(t, tc.name, r, tc.want)
			}
			r := s.api.do(t, s.owner, a.method, p, "x=1", "If-Match", `"1"`, "Content-Type", "text/plain")
			wantStatus(t, "text/plain body", r, http.StatusUnsupportedMediaType)
			if got := s.etag(t, id); got != `"1"` {
				t.Errorf("refused writes changed the draft: ETag %q, want \"1\"", got)
			}
		})
	}
}

func (s *apiSetup) apiPrecedence(t *testing.T) {
	t.Parallel()
	id := s.createDraft(t, s.owner, "acme")
	globexID := s.createDraft(t, s.globex, "globex")
	// Move the draft to version 2 so "1" is stale.
	r := s.api.do(t, s.owner, http.MethodPatch, draftPath(id), `{"current_step":1,"display_name":"Precedence"}`, "If-Match", `"1"`)
	wantStatus(t, "patch", r, http.StatusOK)
	cur := r.Header.Get("ETag")
	if cur != `"2"` {
		t.Fatalf("ETag = %q, want \"2\"", cur)
	}
	const stale = `"1"`
	long := strings.Repeat("x", 201)
	type action struct {
		name, method, suffix, body, invalid string // invalid: a body with invalid fields ("" when there are none)
		ownerOnly                           bool
	}
	actions := []action{
		{"Patch", http.MethodPatch, "", `{"display_name":"New"}`, `{"display_name":"` + long + `","primary_domain":"bad"}`, false},
		{"Verification", http.MethodPost, "/verification", "", "", false},
		{"Bootstrap", http.MethodPost, "/bootstrap", `{"operations":["inventory_sync"]}`, `{"operations":["reboot"]}`, false},
		{"Activation", http.MethodPost, "/activation", "", `{"override_reason":"   "}`, true},
		{"Cancellation", http.MethodPost, "/cancellation", "", "", true},
	}
	unknownWS := s.api.do(t, s.owner, http.MethodGet, "/workspaces/nope/onboarding/drafts/"+id, "")
	wantStatus(t, "unknown workspace", unknownWS, http.StatusNotFound)
	for _, a := range actions {
		t.Run(a.name, func(t *testing.T) {
			path := func(ws, id string) string { return "/workspaces/" + ws + "/onboarding/drafts/" + id + a.suffix }
			r := s.api.do(t, s.anon, a.method, path("acme", id), a.body, "If-Match", cur)
			wantStatus(t, "no session", r, http.StatusUnauthorized)

			for name, p := range map[string]string{
				"other workspace's draft": path("acme", globexID),
				"unknown id":              path("acme", onboarding.NewGUID()),
				"malformed id":            path("acme", "not-an-id"),
				"unknown workspace":       path("nope", id),
				"draft via other ws":      path("globex", id),
			} {
				for _, im := range []string{"", cur, stale} {
					r := s.api.do(t, s.owner, a.method, p, a.body, "If-Match", im)
					wantStatus(t, name+" If-Match "+im, r, http.StatusNotFound)
					if !bytes.Equal(r.Body, unknownWS.Body) {
						t.Errorf("%s: 404 body differs from the unknown workspace's:\n%s\n%s", name, r.Body, unknownWS.Body)
					}
				}
			}

			bodies := []string{a.body}
			if a.invalid != "" {
				bodies = append(bodies, a.invalid)
			}
			for _, body := range bodies {
				for _, im := range []string{"", stale, cur} {
					r := s.api.do(t, s.viewer, a.method, path("acme", id), body, "If-Match", im)
					wantStatus(t, "viewer If-Match "+im+" body "+body, r, http.StatusForbidden)
					if a.ownerOnly {
						r := s.api.do(t, s.operator, a.method, path("acme", id), body, "If-Match", im)
						wantStatus(t, "operator If-Match "+im+" body "+body, r, http.StatusForbidden)
					}
				}
				r := s.api.do(t, s.owner, a.method, path("acme", id), body)
				wantStatus(t, "owner without If-Match body "+body, r, http.StatusPreconditionRequired)
				r = s.api.do(t, s.owner, a.method, path("acme", id), body, "If-Match", stale)
				wantStatus(t, "owner stale If-Match body "+body, r, http.StatusPreconditionFailed)
				if got := r.object(t)["current_version"]; got != 2.0 {
					t.Errorf("current_version = %v, want 2", got)
				}
			}
			if a.invalid != "" {
				r := s.api.do(t, s.owner, a.method, path("acme", id), a.invalid, "If-Match", cur)
				wantStatus(t, "owner current If-Match invalid body", r, http.StatusUnprocessableEntity)
			}
			if got := s.etag(t, id); got != cur {
				t.Errorf("refused writes changed the draft: ETag %q, want %q", got, cur)
			}
		})
	}
}
