package live

import (
	"bytes"
	"slices"
	"strconv"
)

// Keyed regions and delta fragments (docs/live.md, Deltas).
//
// A fragment may be cut into keyed regions: every child element of its root carries
// data-region="{key}", with no other content between them, so region i's bytes run from its
// opening tag to the next region's (or to the root's closing tag). A delta fragment is the
// new root's opening tag, holding only the attributes that changed since the fragment at the
// base rev (and always those that route it: data-live, data-draft-id, data-rev) with
// data-base-rev="{rev}" added, followed by the regions whose bytes differ from the fragment at
// that rev, and the root's closing tag. A browser that holds the
// fragment of the base rev rebuilds the whole new fragment from it; one that does not asks
// for a full fragment again (it resubscribes). The hub does not parse HTML beyond finding
// these markers: user text cannot contain them, because the renderer escapes quotes.

// regionMark starts a region's key inside its opening tag.
const regionMark = ` data-region="`

// baseRevAttr names the rev a delta applies to.
const baseRevAttr = ` data-base-rev="`

// region is one keyed region of a fragment.
type region struct {
	key, bytes []byte
}

// splitRegions cuts a fragment into the root's opening tag (head), its regions and the
// root's closing tag (tail). ok is false when the fragment does not have that shape (one
// opening tag, then regions only, then one closing tag); a fragment with nothing between its
// root's tags (a delta in which no region changed) has no regions.
func splitRegions(b []byte) (head []byte, regions []region, tail []byte, ok bool) {
	end := bytes.LastIndex(b, []byte("</"))
	if end < 0 || bytes.IndexByte(b[end:], '>') != len(b[end:])-1 {
		return nil, nil, nil, false
	}
	var starts []int
	var keys [][]byte
	for off := 0; ; {
		i := bytes.Index(b[off:end], []byte(regionMark))
		if i < 0 {
			break
		}
		i += off
		start := bytes.LastIndexByte(b[:i], '<')
		k := i + len(regionMark)
		q := bytes.IndexByte(b[k:end], '"')
		if start < 0 || q <= 0 {
			return nil, nil, nil, false
		}
		starts = append(starts, start)
		keys = append(keys, b[k:k+q])
		off = k + q
	}
	headEnd := end // no regions: the root's tags with nothing between them
	if len(starts) > 0 {
		headEnd = starts[0]
	}
	head = b[:headEnd]
	if bytes.Count(head, []byte("<")) != 1 || !bytes.HasSuffix(head, []byte(">")) || bytes.HasSuffix(head, []byte("/>")) {
		return nil, nil, nil, false
	}
	if len(starts) == 0 {
		return head, nil, b[end:], true
	}
	regions = make([]region, len(starts))
	for i, s := range starts {
		e := end
		if i+1 < len(starts) {
			e = starts[i+1]
		}
		if r := bytes.TrimRight(b[s:e], " \t\r\n"); len(r) == 0 || r[len(r)-1] != '>' {
			return nil, nil, nil, false // text between regions: not this shape
		}
		regions[i] = region{keys[i], b[s:e]}
	}
	return head, regions, b[end:], true
}

// Delta returns the delta fragment that turns prev (the fragment of rev base) into next, or
// nil when there is none: either fragment has no regions, their regions' keys differ (a
// different layout: the full fragment is sent), or the delta would not be smaller than next.
func Delta(prev, next []byte, base int64) []byte {
	prevHead, pr, _, ok := splitRegions(prev)
	if !ok || len(pr) == 0 {
		return nil
	}
	head, nr, tail, ok := splitRegions(next)
	if !ok || len(pr) != len(nr) {
		return nil
	}
	for i := range nr {
		if !bytes.Equal(pr[i].key, nr[i].key) {
			return nil
		}
	}
	out := make([]byte, 0, 1024)
	out, ok = appendChangedHead(out, prevHead, head)
	if !ok {
		return nil
	}
	out = append(out, baseRevAttr...)
	out = strconv.AppendInt(out, base, 10)
	out = append(out, `">`...)
	for i := range nr {
		if !bytes.Equal(pr[i].bytes, nr[i].bytes) {
			out = append(out, nr[i].bytes...)
		}
	}
	out = append(out, tail...)
	if len(out) >= len(next) {
		return nil
	}
	return out
}

// IsDelta reports whether a fragment is a delta (its root carries data-base-rev).
func IsDelta(fragment []byte) bool {
	end := bytes.IndexByte(fragment, '>')
	return end > 0 && bytes.Contains(fragment[:end], []byte(baseRevAttr))
}

// ApplyDelta rebuilds the full fragment from prev (the fragment of the delta's base rev) and
// a delta fragment, as the browser does; ok is false when delta is not a delta, its base rev
// is not prev's, or it names a region prev does not have. For clients other than the
// browser, and for tests.
func ApplyDelta(prev, delta []byte, prevRev int64) (_ []byte, ok bool) {
	dhead, dr, tail, ok := splitRegions(delta)
	if !ok {
		return nil, false
	}
	i := bytes.Index(dhead, []byte(baseRevAttr))
	if i < 0 {
		return nil, false
	}
	j := bytes.IndexByte(dhead[i+len(baseRevAttr):], '"')
	if j < 0 {
		return nil, false
	}
	base, err := strconv.ParseInt(string(dhead[i+len(baseRevAttr):i+len(baseRevAttr)+j]), 10, 64)
	if err != nil || base != prevRev {
		return nil, false
	}
	phead, pr, _, ok := splitRegions(prev)
	if !ok {
		return nil, false
	}
	out := make([]byte, 0, len(prev)+len(delta))
	// The root: prev's attributes, each replaced by the delta's of the same name.
	dhead = append(append([]byte(nil), dhead[:i]...), dhead[i+len(baseRevAttr)+j+1:]...)
	ptag, pattrs, ok := parseTag(phead)
	dtag, dattrs, dok := parseTag(dhead)
	if !ok || !dok || !bytes.Equal(ptag, dtag) {
		return nil, false
	}
	out = append(out, '<')
	out = append(out, ptag...)
	replaced := 0
	for _, a := range pattrs {
		for _, d := range dattrs {
			if bytes.Equal(d.name, a.name) {
				a = d
				replaced++
				break
			}
		}
		out = append(out, a.raw...)
	}
	if replaced != len(dattrs) {
		return nil, false // an attribute prev does not have: not a delta of prev
	}
	out = append(out, '>')
	used := 0
	for _, p := range pr {
		b := p.bytes
		for _, d := range dr {
			if bytes.Equal(d.key, p.key) {
				b = d.bytes
				used++
				break
			}
		}
		out = append(out, b...)
	}
	if used != len(dr) {
		return nil, false
	}
	return append(out, tail...), true
}

// routingAttrs are the root attributes every delta carries, changed or not: a browser finds
// the fragment a frame is for, and orders frames, by them before it rebuilds anything.
var routingAttrs = [][]byte{[]byte("data-live"), []byte("data-draft-id"), []byte("data-rev")}

// attr is one attribute of an opening tag: its name and its bytes, leading space included.
type attr struct{ name, raw []byte }

// parseTag reads an opening tag as the renderer writes it: `<name`, then attributes, each a
// space, a name and optionally `="value"` (values escaped, so without quotes), then `>`.
func parseTag(head []byte) (name []byte, attrs []attr, ok bool) {
	if len(head) < 3 || head[0] != '<' || head[len(head)-1] != '>' {
		return nil, nil, false
	}
	b := head[1 : len(head)-1]
	n := bytes.IndexByte(b, ' ')
	if n < 0 {
		return b, nil, len(b) > 0
	}
	name, b = b[:n], b[n:]
	for len(b) > 0 {
		if b[0] != ' ' {
			return nil, nil, false
		}
		start := b
		b = b[1:]
		e := bytes.IndexAny(b, " =")
		if e < 0 {
			e = len(b)
		}
		a := attr{name: b[:e]}
		b = b[e:]
		if len(b) > 0 && b[0] == '=' {
			if len(b) < 2 || b[1] != '"' {
				return nil, nil, false
			}
			q := bytes.IndexByte(b[2:], '"')
			if q < 0 {
				return nil, nil, false
			}
			b = b[2+q+1:]
		}
		if len(a.name) == 0 {
			return nil, nil, false
		}
		a.raw = start[:len(start)-len(b)]
		attrs = append(attrs, a)
	}
	return name, attrs, true
}

// appendChangedHead appends next's opening tag, without its closing '>', keeping only the
// attributes whose bytes differ from prev's and the routing ones. ok is false when the two
// tags do not have the same name and the same attributes in the same order (a conditional
// attribute came or went): the full fragment is sent then, so that the rebuilt fragment is
// next, byte for byte.
func appendChangedHead(out, prev, next []byte) (_ []byte, ok bool) {
	ptag, pattrs, ok := parseTag(prev)
	if !ok {
		return out, false
	}
	ntag, nattrs, ok := parseTag(next)
	if !ok || !bytes.Equal(ptag, ntag) || len(pattrs) != len(nattrs) {
		return out, false
	}
	out = append(out, '<')
	out = append(out, ntag...)
	for i, a := range nattrs {
		if !bytes.Equal(a.name, pattrs[i].name) {
			return out, false
		}
		if bytes.Equal(a.raw, pattrs[i].raw) && !slices.ContainsFunc(routingAttrs, func(r []byte) bool { return bytes.Equal(r, a.name) }) {
			continue
		}
		out = append(out, a.raw...)
	}
	return out, true
}
