package liveedge

import (
	"strings"
	"testing"

	"github.com/tenantops/onboard/internal/onboarding"
)

const fuzzGUID = "0b7e4c2a-5d0c-4a8e-9f1e-2c3d4e5f6a7b"

// FuzzParseLiveQuery: /live's query string.
func FuzzParseLiveQuery(f *testing.F) {
	for _, s := range []string{
		"draft=" + fuzzGUID,
		"draft=" + fuzzGUID + "&rev=7&view=row&draft=" + strings.ToUpper(fuzzGUID) + "&version=3&view=run%3A" + fuzzGUID,
		"rev=1&draft=" + fuzzGUID,
		"draft=" + fuzzGUID + "&rev=1&rev=2",
		"draft=" + fuzzGUID + "&rev=-1",
		"draft=" + fuzzGUID + "&rev=999999999999999999",
		"draft=" + fuzzGUID + "&view=run:" + fuzzGUID + "x",
		"draft=%ZZ", "draft=%00", "&&&", "draft", "=",
		strings.Repeat("draft="+fuzzGUID+"&", 51),
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		subs, err := parseLiveQuery(raw)
		if err != nil {
			return
		}
		if len(subs) == 0 || len(subs) > maxLiveDrafts {
			t.Fatalf("%d subscriptions from %q", len(subs), raw)
		}
		for _, s := range subs {
			if !onboarding.IsGUID(s.Target) || s.Target != strings.ToLower(s.Target) || s.Rev < 0 {
				t.Fatalf("bad subscription %+v from %q", s, raw)
			}
			if _, err := parseView(s.View); err != nil {
				t.Fatalf("bad view %q from %q", s.View, raw)
			}
		}
	})
}
