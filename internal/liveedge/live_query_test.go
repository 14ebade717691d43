package liveedge

import (
	"reflect"
	"strings"
	"testing"

	"github.com/tenantops/onboard/internal/live"
)

func TestParseLiveQuery(t *testing.T) {
	t.Parallel()
	const a, b = "0b7e4c2a-5d0c-4a8e-9f1e-2c3d4e5f6a7b", "1c7e4c2a-5d0c-4a8e-9f1e-2c3d4e5f6a7b"
	ok := []struct {
		name, q string
		want    []live.Subscription
	}{
		{"OneDraft", "draft=" + a, []live.Subscription{{Target: a, View: "checkpoint"}}},
		{"RevFollowsItsDraft", "draft=" + a + "&rev=7&draft=" + b + "&rev=3",
			[]live.Subscription{{Target: a, View: "checkpoint", Rev: 7}, {Target: b, View: "checkpoint", Rev: 3}}},
		{"VersionAlias", "draft=" + a + "&version=4", []live.Subscription{{Target: a, View: "checkpoint", Rev: 4}}},
		{"RevAndVersionTakeMax", "draft=" + a + "&version=4&rev=9", []live.Subscription{{Target: a, View: "checkpoint", Rev: 9}}},
		{"ViewsAndCase", "draft=" + strings.ToUpper(a) + "&view=row&draft=" + a + "&view=run%3A" + strings.ToUpper(b),
			[]live.Subscription{{Target: a, View: "row"}, {Target: a, View: "run:" + b}}},
		{"ZeroRev", "draft=" + a + "&rev=0", []live.Subscription{{Target: a, View: "checkpoint"}}},
		{"Topics", "draft=drafts:3&rev=5&draft=runs:3&view=digest&draft=user:9&view=bell&draft=" + a + "&view=oprow:" + b + "&draft=audit:3&rev=7",
			[]live.Subscription{{Target: "drafts:3", View: "digest", Rev: 5}, {Target: "runs:3", View: "digest"},
				{Target: "user:9", View: "bell"}, {Target: a, View: "oprow:" + b}, {Target: "audit:3", View: "digest", Rev: 7}}},
		{"Deltas", "delta=1&draft=" + a + "&draft=" + b + "&view=row",
			[]live.Subscription{{Target: a, View: "checkpoint", Deltas: true}, {Target: b, View: "row", Deltas: true}}},
		{"DeltasLast", "draft=" + a + "&delta=1", []live.Subscription{{Target: a, View: "checkpoint", Deltas: true}}},
		{"FiveHundredRowsAndTopics", strings.Repeat("draft="+a+"&view=row&", maxLiveDrafts) + "draft=drafts:1&draft=user:1",
			append(slicesRepeat(live.Subscription{Target: a, View: "row"}, maxLiveDrafts),
				live.Subscription{Target: "drafts:1", View: "digest"}, live.Subscription{Target: "user:1", View: "bell"})},
	}
	for _, tt := range ok {
		t.Run(tt.name, func(t *testing.T) {
			got, err := parseLiveQuery(tt.q)
			if err != nil || !reflect.DeepEqual(got, tt.want) {
				t.Fatalf("parseLiveQuery(%q) = %+v, %v; want %+v", tt.q, got, err, tt.want)
			}
		})
	}
	bad := map[string]string{
		"Empty":         "",
		"NotUUID":       "draft=abc",
		"Negative":      "draft=" + a + "&rev=-1",
		"Plus":          "draft=" + a + "&rev=+1",
		"Huge":          "draft=" + a + "&rev=1234567890123456789",
		"RevTwice":      "draft=" + a + "&rev=1&rev=1",
		"ViewTwice":     "draft=" + a + "&view=row&view=row",
		"Orphan":        "rev=1",
		"Unknown":       "draft=" + a + "&since=1",
		"BadView":       "draft=" + a + "&view=run:",
		"TooMany":       strings.Repeat("draft="+a+"&", maxLiveDrafts+1),
		"BadEncoding":   "draft=%G0",
		"TopicZero":     "draft=drafts:0",
		"TopicSign":     "draft=user:-1",
		"TopicKind":     "draft=logs:1",
		"TopicView":     "draft=drafts:1&view=row",
		"BellOnDraft":   "draft=" + a + "&view=bell",
		"TooManyTopics": strings.Repeat("draft=user:1&", maxLiveTopics+1),
		"DeltaTwice":    "delta=1&draft=" + a + "&delta=1",
		"DeltaValue":    "draft=" + a + "&delta=yes",
		"DeltaAlone":    "delta=1",
	}
	for name, q := range bad {
		t.Run("Bad/"+name, func(t *testing.T) {
			if got, err := parseLiveQuery(q); err == nil {
				t.Fatalf("parseLiveQuery(%q) = %+v, want an error", q, got)
			}
		})
	}
}

func slicesRepeat(s live.Subscription, n int) []live.Subscription {
	out := make([]live.Subscription, n)
	for i := range out {
		out[i] = s
	}
	return out
}
