package apidoc

import (
	"context"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
)

func TestDocumentValid(t *testing.T) {
	t.Parallel()
	doc, err := openapi3.NewLoader().LoadFromData(OpenAPI)
	if err != nil {
		t.Fatalf("load: %v", err)
	}
	if !doc.IsOpenAPI31OrLater() {
		t.Fatalf("openapi = %q, want 3.1", doc.OpenAPI)
	}
	if err := doc.Validate(context.Background()); err != nil {
		t.Fatalf("validate: %v", err)
	}
	for _, p := range []string{"/session", "/workspaces/{ws}/onboarding/drafts", "/workspaces/{ws}/onboarding/drafts/{id}",
		"/workspaces/{ws}/onboarding/drafts/{id}/verification", "/workspaces/{ws}/onboarding/drafts/{id}/bootstrap",
		"/workspaces/{ws}/onboarding/drafts/{id}/activation", "/workspaces/{ws}/onboarding/drafts/{id}/cancellation",
		"/workspaces/{ws}/operation-runs", "/workspaces/{ws}/operation-runs/{run_id}",
		"/workspaces/{ws}/operation-runs/{run_id}/retry", "/sessions", "/sessions/end-others", "/sessions/{session_id}", "/password"} {
		if doc.Paths.Find(p) == nil {
			t.Errorf("path %s is not documented", p)
		}
	}
}
