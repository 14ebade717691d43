package postgres_test

import (
	"context"
	"testing"
)

// TestSearchRuns: a run is found by its id's prefix, its type (words or code), its tenant id
// and its draft's name, case-insensitively, only in its own workspace; LIKE's wildcards in
// the search are plain characters.
func TestSearchRuns(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	f := setup(t)
	d, run := f.queuedRun(t) // draft "Contoso", a verify_access run
	for _, tc := range []struct {
		name, q string
		ws      int64
		want    int
	}{
		{"IDPrefix", run.ID[:8], f.owner.WorkspaceID, 1},
		{"IDPrefixUpper", upper(run.ID[:8]), f.owner.WorkspaceID, 1},
		{"IDMiddle", run.ID[9:13], f.owner.WorkspaceID, 0},
		{"Type", "verify_acc", f.owner.WorkspaceID, 1},
		{"TypeWords", "Verify Access", f.owner.WorkspaceID, 1},
		{"Tenant", d.TenantID[24:], f.owner.WorkspaceID, 1},
		{"DraftName", "CONTO", f.owner.WorkspaceID, 1},
		{"Wildcard", "%", f.owner.WorkspaceID, 0},
		{"Underscore", "verify_", f.owner.WorkspaceID, 1},
		{"OtherWorkspace", "contoso", f.globex.WorkspaceID, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := f.store.SearchRuns(ctx, tc.ws, tc.q, 10)
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != tc.want {
				t.Fatalf("SearchRuns(%q) = %d runs, want %d", tc.q, len(got), tc.want)
			}
			if tc.want == 1 && (got[0].Run.ID != run.ID || got[0].DraftName != "Contoso") {
				t.Errorf("found %s of %q, want %s of Contoso", got[0].Run.ID, got[0].DraftName, run.ID)
			}
		})
	}
}

func upper(s string) string {
	b := []byte(s)
	for i, c := range b {
		if 'a' <= c && c <= 'f' {
			b[i] = c - 'a' + 'A'
		}
	}
	return string(b)
}
