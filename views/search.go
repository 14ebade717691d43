package views

import (
	"strings"
	"unicode/utf8"
)

// searchTitle is the search page's title.
func searchTitle(q string) string {
	if q == "" {
		return "Search"
	}
	return "Search: " + q
}

// searchCount says how many hits a group shows: "3", or "8+" when there are more.
func searchCount(n int, more bool) string {
	switch {
	case more:
		return itoa(n) + "+ found"
	case n == 1:
		return "1 found"
	default:
		return itoa(n) + " found"
	}
}

// shortID is the first block of a UUID, as runs are named in lists.
func shortID(id string) string {
	if i := strings.IndexByte(id, '-'); i > 0 {
		return id[:i]
	}
	return id
}

func firstNonEmpty(ss ...string) string {
	for _, s := range ss {
		if s != "" {
			return s
		}
	}
	return ""
}

// textPart is a piece of a highlighted text: a match of the search or the text between.
type textPart struct {
	text  string
	match bool
}

// highlight cuts s at every case-insensitive occurrence of q. Offsets are found in the
// lower-cased text, so s is highlighted only where lower-casing keeps every byte offset
// (otherwise it is one plain part); the parts are text, escaped when rendered.
func highlight(s, q string) []textPart {
	ls, lq := strings.ToLower(s), strings.ToLower(q)
	if q == "" || len(ls) != len(s) {
		return []textPart{{text: s}}
	}
	var out []textPart
	start := 0
	for {
		i := strings.Index(ls[start:], lq)
		if i < 0 {
			break
		}
		at, end := start+i, start+i+len(lq)
		if !utf8.RuneStart(s[at]) || end < len(s) && !utf8.RuneStart(s[end]) {
			return []textPart{{text: s}}
		}
		if at > start {
			out = append(out, textPart{text: s[start:at]})
		}
		out = append(out, textPart{text: s[at:end], match: true})
		start = end
	}
	if start < len(s) {
		out = append(out, textPart{text: s[start:]})
	}
	return out
}
