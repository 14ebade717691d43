package postgres_test

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/tenantops/onboard/internal/onboarding"
	"github.com/tenantops/onboard/internal/postgres"
)

// FuzzParseLiveEvent: any NOTIFY payload. An accepted one is a well-formed event of one kind
// with exactly that kind's fields; a draft event survives a round trip through the payload
// format the triggers send. `go test` runs the seeds (docs/reliability.md).
func FuzzParseLiveEvent(f *testing.F) {
	const id = "0b7e4c2a-5d0c-4a8e-9f1e-2c3d4e5f6a7b"
	for _, s := range []string{
		`{"k":"draft","d":"` + id + `","w":1,"v":2,"r":3}`,
		`{"k":"run","d":"` + id + `","w":1,"run":"` + id + `","r":3}`,
		`{"k":"membership","w":1,"u":7}`,
		`{"k":"draft","d":"` + strings.ToUpper(id) + `","w":1,"v":2,"r":3}`,
		`{"k":"draft","d":"` + id + `","w":1,"v":2,"r":3,"u":1}`,
		`{"k":"draft","d":"` + id + `","w":1,"v":2,"r":3} {}`,
		`{"k":"draft","d":"` + id + `","w":1,"v":2,"r":3,"x":1}`,
		`{"k":"draft","d":"` + id + `","w":-1,"v":2,"r":3}`,
		`{"k":"draft","d":"` + id + `","w":1,"v":1e3,"r":3}`,
		`{"k":"nope","w":1}`, `{"k":"run"}`, `null`, `[]`, `"x"`, `{`, ``, "\x00", "12",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, payload string) {
		e, err := postgres.ParseLiveEvent(payload)
		if err != nil {
			return
		}
		if e.WorkspaceID <= 0 {
			t.Fatalf("%q: accepted without a workspace: %+v", payload, e)
		}
		switch e.Kind {
		case postgres.LiveKindDraft, postgres.LiveKindRun:
			if !onboarding.IsGUID(e.DraftID) || e.DraftID != strings.ToLower(e.DraftID) || e.Rev <= 0 || e.UserID != 0 {
				t.Fatalf("%q: bad %s event %+v", payload, e.Kind, e)
			}
		case postgres.LiveKindMembership:
			if e.UserID <= 0 || e.DraftID != "" || e.Rev != 0 || e.Version != 0 {
				t.Fatalf("%q: bad membership event %+v", payload, e)
			}
		default:
			t.Fatalf("%q: accepted kind %q", payload, e.Kind)
		}
		if e.Kind == postgres.LiveKindDraft {
			if e.Version <= 0 {
				t.Fatalf("%q: draft event without a version: %+v", payload, e)
			}
			b, _ := json.Marshal(map[string]any{"k": e.Kind, "d": e.DraftID, "w": e.WorkspaceID, "v": e.Version, "r": e.Rev})
			if e2, err := postgres.ParseLiveEvent(string(b)); err != nil || e2 != e {
				t.Fatalf("round trip of %+v: %+v, %v", e, e2, err)
			}
		}
	})
}
