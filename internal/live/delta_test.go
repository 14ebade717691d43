package live

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"
)

// regionFragment builds a fragment of rev with one region per value (key r{i}).
func regionFragment(rev int64, values ...string) []byte {
	var b strings.Builder
	fmt.Fprintf(&b, `<section data-live="checkpoint" data-draft-id="d1" data-version="%d" data-rev="%d">`, rev, rev)
	for i, v := range values {
		fmt.Fprintf(&b, "<div data-region=\"r%d\" class=\"x\"><p>%s</p></div>\n", i, v)
	}
	b.WriteString(`</section>`)
	return []byte(b.String())
}

func TestDelta(t *testing.T) {
	long := strings.Repeat("unchanged text ", 40)
	prev := regionFragment(4, long, "Contoso", long)
	next := regionFragment(7, long, "Fabrikam", long)

	t.Run("OnlyChangedRegions", func(t *testing.T) {
		d := Delta(prev, next, 4)
		want := `<section data-live="checkpoint" data-draft-id="d1" data-version="7" data-rev="7" data-base-rev="4">` +
			"<div data-region=\"r1\" class=\"x\"><p>Fabrikam</p></div>\n</section>"
		if string(d) != want {
			t.Fatalf("Delta =\n%s\nwant\n%s", d, want)
		}
		if !IsDelta(d) || IsDelta(next) {
			t.Fatalf("IsDelta(delta) = %v, IsDelta(full) = %v", IsDelta(d), IsDelta(next))
		}
		got, ok := ApplyDelta(prev, d, 4)
		if !ok || string(got) != string(next) {
			t.Fatalf("ApplyDelta = %v\n%s\nwant\n%s", ok, got, next)
		}
	})
	t.Run("OnlyChangedRootAttributes", func(t *testing.T) {
		// A save that changes a region and the rev, not the version or the owner: the
		// delta's root keeps what routes it (data-live, data-draft-id, data-rev) and what
		// changed, not the rest.
		frag := func(rev int64, name string) []byte {
			return []byte(fmt.Sprintf(`<section id="checkpoint" class="checkpoint stack" data-live="checkpoint" data-draft-id="d1" data-version="3" data-rev="%d" data-poll-url="/a/very/long/url/that/never/changes">`+
				"<div data-region=\"r0\"><p>%s</p></div><div data-region=\"r1\"><p>%s</p></div></section>", rev, name, long))
		}
		prev, next := frag(4, "Contoso"), frag(5, "Fabrikam")
		d := Delta(prev, next, 4)
		want := `<section data-live="checkpoint" data-draft-id="d1" data-rev="5" data-base-rev="4"><div data-region="r0"><p>Fabrikam</p></div></section>`
		if string(d) != want {
			t.Fatalf("Delta =\n%s\nwant\n%s", d, want)
		}
		got, ok := ApplyDelta(prev, d, 4)
		if !ok || string(got) != string(next) {
			t.Fatalf("ApplyDelta = %v\n%s\nwant\n%s", ok, got, next)
		}
		// An attribute that comes or goes: the whole fragment, so the rebuilt one is next.
		gone := []byte(strings.Replace(string(next), ` data-poll-url="/a/very/long/url/that/never/changes"`, "", 1))
		if d := Delta(prev, gone, 4); d != nil {
			t.Errorf("Delta with an attribute gone = %s, want none", d)
		}
		// A delta naming an attribute its base does not have is not a delta of it.
		if _, ok := ApplyDelta(prev, []byte(strings.Replace(want, `data-rev="5"`, `data-rev="5" data-x="1"`, 1)), 4); ok {
			t.Error("ApplyDelta took an attribute the base does not have")
		}
	})
	t.Run("WrongBaseRefused", func(t *testing.T) {
		if _, ok := ApplyDelta(prev, Delta(prev, next, 4), 5); ok {
			t.Fatal("a delta applied to another rev than its base")
		}
	})
	t.Run("NoDelta", func(t *testing.T) {
		for name, pair := range map[string][2][]byte{
			"no regions":        {[]byte(`<tr data-rev="1"><td>a</td></tr>`), []byte(`<tr data-rev="2"><td>b</td></tr>`)},
			"other layout":      {prev, regionFragment(7, long, "Fabrikam")},
			"not smaller":       {regionFragment(1, "a"), regionFragment(2, "b")},
			"text outside":      {prev, []byte(strings.Replace(string(next), `</section>`, `stray</section>`, 1))},
			"self-closing root": {[]byte(`<x data-rev="1"/>`), []byte(`<x data-rev="2"/>`)},
		} {
			if d := Delta(pair[0], pair[1], 1); d != nil {
				t.Errorf("%s: Delta = %s, want none", name, d)
			}
		}
	})
	t.Run("NothingChangedButTheRoot", func(t *testing.T) {
		d := Delta(prev, regionFragment(9, long, "Contoso", long), 4)
		got, ok := ApplyDelta(prev, d, 4)
		if !ok || string(got) != string(regionFragment(9, long, "Contoso", long)) {
			t.Fatalf("ApplyDelta(%s) = %v %s", d, ok, got)
		}
	})
}

// TestDeltaRoundTrip: for random pairs of fragments of one layout, applying the delta to the
// older one gives exactly the newer one.
func TestDeltaRoundTrip(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	words := []string{strings.Repeat("a", 300), strings.Repeat("b", 200), "c", "&lt;x&gt;", "data-region=&#34;r9&#34;"}
	pick := func() []string {
		v := make([]string, 5)
		for i := range v {
			v[i] = words[rng.IntN(len(words))]
		}
		return v
	}
	for i := range 500 {
		prev, next := regionFragment(int64(i), pick()...), regionFragment(int64(i+1), pick()...)
		d := Delta(prev, next, int64(i))
		if d == nil {
			continue
		}
		got, ok := ApplyDelta(prev, d, int64(i))
		if !ok || string(got) != string(next) {
			t.Fatalf("round %d: ApplyDelta(%s) = %v\n%s\nwant\n%s", i, d, ok, got, next)
		}
	}
}
