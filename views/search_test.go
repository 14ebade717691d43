package views

import (
	"reflect"
	"testing"
)

func TestHighlight(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name, s, q string
		want       []textPart
	}{
		{"None", "Contoso", "fab", []textPart{{text: "Contoso"}}},
		{"CaseInsensitive", "Contoso", "con", []textPart{{text: "Con", match: true}, {text: "toso"}}},
		{"Every", "a-b-a", "A", []textPart{{text: "a", match: true}, {text: "-b-"}, {text: "a", match: true}}},
		{"Whole", "abc", "ABC", []textPart{{text: "abc", match: true}}},
		{"Unicode", "Ærø Müller", "mü", []textPart{{text: "Ærø "}, {text: "Mü", match: true}, {text: "ller"}}},
		{"OffsetsMove", "İstanbul", "stan", []textPart{{text: "İstanbul"}}}, // lower-casing İ changes its length
		{"EmptyQuery", "abc", "", []textPart{{text: "abc"}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := highlight(tc.s, tc.q); !reflect.DeepEqual(got, tc.want) {
				t.Errorf("highlight(%q, %q) = %v, want %v", tc.s, tc.q, got, tc.want)
			}
		})
	}
}
