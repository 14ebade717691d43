package web_test

import (
	"testing"
	"time"

	"github.com/alexedwards/scs/v2"

	"github.com/tenantops/onboard/internal/web"
)

// TestSessionOwner reads the user id out of session data as the session manager stores it.
func TestSessionOwner(t *testing.T) {
	t.Parallel()
	enc := func(values map[string]any) []byte {
		b, err := scs.GobCodec{}.Encode(time.Now().Add(time.Hour), values)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	for _, tc := range []struct {
		name string
		data []byte
		id   int64
		ok   bool
	}{
		{"SignedIn", enc(map[string]any{"user_id": int64(42), "flash": "x"}), 42, true},
		{"Anonymous", enc(map[string]any{"flash": "x"}), 0, false},
		{"NotGob", []byte("garbage"), 0, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			if id, ok := web.SessionOwner(tc.data); id != tc.id || ok != tc.ok {
				t.Errorf("SessionOwner = %d, %v; want %d, %v", id, ok, tc.id, tc.ok)
			}
		})
	}
}
