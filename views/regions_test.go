package views

import (
	"slices"
	"strings"
	"testing"

	"golang.org/x/net/html"
)

// regionFixtures are checkpoint fragments of every step, state and role the fixtures know.
func regionFixtures() map[string]CheckpointData {
	out := map[string]CheckpointData{}
	base := map[string]CheckpointData{
		"step1": stepData(1), "step2": stepData(2), "step3": stepData(3), "step4": stepData(4), "step5": stepData(5),
		"step2-connected": connected(stepData(2)), "step3-unverified": func() CheckpointData {
			d := stepData(3)
			d.Verification = nil
			return d
		}(), "step3-running": func() CheckpointData {
			d := stepData(3)
			v := *d.Verification
			v.Status, v.Outcome = "running", ""
			d.Verification = &v
			return d
		}(), "step3-no-connection": func() CheckpointData {
			d := stepData(3)
			d.Connection = nil
			return d
		}(), "step3-review": func() CheckpointData {
			d := stepData(5)
			d.Step = 3
			return d
		}(),
		"overridable": overridableActivate(), "completed": completedWithOverride(), "cancelled": cancelled(),
		"activation-requested": requestedActivation(),
	}
	for name, d := range base {
		for _, role := range []string{"owner", "operator", "viewer"} {
			out[name+"/"+role] = cohort(d, role)
		}
	}
	return out
}

// TestCheckpointRegions: every child of the checkpoint fragment's root is a keyed region
// (unique keys, none nested, no text between them), which is what the hub's deltas rely on;
// and every form of the fragment gets exactly one version input, from the versions region
// (checkpointForms agrees with the templates).
func TestCheckpointRegions(t *testing.T) {
	t.Parallel()
	for name, d := range regionFixtures() {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			doc, err := html.Parse(strings.NewReader(render(t, Checkpoint(d))))
			if err != nil {
				t.Fatal(err)
			}
			root := find(doc, func(n *html.Node) bool { return attr(n, "data-live") != "" })
			var keys []string
			for c := root.FirstChild; c != nil; c = c.NextSibling {
				if c.Type == html.TextNode && strings.TrimSpace(c.Data) == "" {
					continue
				}
				k := attr(c, "data-region")
				if c.Type != html.ElementNode || k == "" || slices.Contains(keys, k) {
					t.Fatalf("root child %q (%v) is not a region with a unique key", c.Data, c.Attr)
				}
				keys = append(keys, k)
				if inner := find(c, func(n *html.Node) bool { return n != c && attr(n, "data-region") != "" }); inner != nil {
					t.Fatalf("region %s holds region %s", k, attr(inner, "data-region"))
				}
			}
			if keys[len(keys)-1] != "versions" {
				t.Fatalf("regions %v", keys)
			}
			var forms, tied []string
			walk(root, func(n *html.Node) {
				switch {
				case n.Data == "form" && attr(n, "method") == "post":
					forms = append(forms, attr(n, "id"))
					if find(n, func(x *html.Node) bool { return attr(x, "name") == "version" }) != nil {
						t.Errorf("form %s holds a version input of its own", attr(n, "id"))
					}
				case n.Data == "input" && attr(n, "name") == "version":
					if attr(n, "value") != "7" {
						t.Errorf("version input %v", n.Attr)
					}
					tied = append(tied, attr(n, "form"))
				}
			})
			slices.Sort(forms)
			slices.Sort(tied)
			if !slices.Equal(forms, tied) {
				t.Fatalf("forms %v, version inputs for %v", forms, tied)
			}
		})
	}
}

func attr(n *html.Node, key string) string {
	for _, a := range n.Attr {
		if a.Key == key {
			return a.Val
		}
	}
	return ""
}

func walk(n *html.Node, f func(*html.Node)) {
	if n.Type == html.ElementNode {
		f(n)
	}
	for c := n.FirstChild; c != nil; c = c.NextSibling {
		walk(c, f)
	}
}

func find(n *html.Node, pred func(*html.Node) bool) *html.Node {
	var hit *html.Node
	walk(n, func(x *html.Node) {
		if hit == nil && pred(x) {
			hit = x
		}
	})
	return hit
}
