package main

import (
	"context"
	"fmt"
	"net/http"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/tenantops/onboard/internal/onboarding"
	"github.com/tenantops/onboard/internal/postgres/pgtest"
)

// TestSecretKeyRotationAtStart: a process started with a new SECRET_KEY and the old one in
// SECRET_KEY_PREVIOUS seals the secrets stored under the old key again under the new one.
func TestSecretKeyRotationAtStart(t *testing.T) {
	t.Parallel()
	const oldKey, newKey = "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=", "ZmVkY2JhOTg3NjU0MzIxMGZlZGNiYTk4NzY1NDMyMTA="
	dbURL := pgtest.NewURL(t)
	base := startApp(t, map[string]string{"DATABASE_URL": dbURL, "SECRET_KEY": oldKey, "WORKERS": "0"})
	api, owner := newAPIClient(t, base), client(t, base, "owner@acme.test")
	created := api.do(t, owner, http.MethodPost, "/workspaces/acme/onboarding/drafts",
		fmt.Sprintf(`{"tenant_id":%q,"display_name":"Rotate","primary_domain":"rotate.healthy.test"}`, onboarding.NewGUID()))
	wantStatus(t, "create draft", created, http.StatusCreated)
	id := created.object(t)["id"].(string)
	patched := api.do(t, owner, http.MethodPatch, draftPath(id),
		`{"provider_connection":{"client_id":"11111111-2222-4333-8444-555555555555","client_secret":"rotate-me-secret"}}`,
		"If-Match", created.Header.Get("ETag"))
	wantStatus(t, "attach connection", patched, http.StatusOK)

	conn, err := pgx.Connect(context.Background(), dbURL)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	keyIDs := func() (ids []string) {
		rows, err := conn.Query(context.Background(), `SELECT DISTINCT secret_key_id FROM provider_connections`)
		if err != nil {
			t.Fatal(err)
		}
		ids, err = pgx.CollectRows(rows, pgx.RowTo[string])
		if err != nil {
			t.Fatal(err)
		}
		return ids
	}
	before := keyIDs()
	if len(before) != 1 {
		t.Fatalf("key ids before rotation = %v, want one", before)
	}
	startApp(t, map[string]string{"DATABASE_URL": dbURL, "SECRET_KEY": newKey, "SECRET_KEY_PREVIOUS": oldKey, "WORKERS": "0"})
	if after := keyIDs(); len(after) != 1 || after[0] == before[0] {
		t.Errorf("key ids after a start with a new key = %v, want one other than %s", after, before[0])
	}
}
