package liveedge

import (
	"errors"
	"fmt"
	"net/url"
	"strconv"
	"strings"

	"github.com/tenantops/onboard/internal/live"
	"github.com/tenantops/onboard/internal/onboarding"
)

// maxLiveDrafts bounds the subscriptions (draft parameters) of one /live connection: a
// drafts list of 500 rows fits in one socket (a query of about 40 KB). A subscribe that is
// behind on many of them receives a catch-up batch, not one queue slot each.
const maxLiveDrafts = 500

// maxLiveTopics bounds the topics (docs/live.md, Topics) of one connection, beside its drafts:
// a page shows its user's bell and at most a list's digest.
const maxLiveTopics = 8

// parseLiveQuery reads /live's query in order, because each draft's rev and view are the
// parameters that follow it:
//
//	draft={uuid}[&rev={n}|&version={n}][&view=checkpoint|row|run:{uuid}|oprow:{uuid}] …
//	draft=drafts:{n}|runs:{n}|audit:{n}|user:{n}[&rev={n}][&view=digest|bell] …
//	[delta=1] (anywhere, once: every subscription applies delta fragments; docs/live.md)
//
// version is accepted as an alias of rev: a draft's version never exceeds its rev (both start
// at 1 and every write that moves the version also stamps a newer rev), so it is a safe lower
// bound that at worst costs one redundant frame. Ids are lower-cased, the form the hub and
// the notifications use. Anything else is an error (400 before the upgrade).
func parseLiveQuery(raw string) ([]live.Subscription, error) {
	type seen struct{ rev, version, view bool }
	var subs []live.Subscription
	var set []seen
	drafts, topics := 0, 0
	deltas := false
	for part := range strings.SplitSeq(raw, "&") {
		if part == "" {
			continue
		}
		k, v, _ := strings.Cut(part, "=")
		k, err := url.QueryUnescape(k)
		if err != nil {
			return nil, errors.New("malformed query")
		}
		v, err = url.QueryUnescape(v)
		if err != nil {
			return nil, errors.New("malformed query")
		}
		if k == "delta" {
			if deltas || v != "1" {
				return nil, errors.New("delta must be given once, as delta=1")
			}
			deltas = true
			continue
		}
		if k != "draft" && len(subs) == 0 {
			if k == "rev" || k == "version" || k == "view" {
				return nil, fmt.Errorf("%s must follow a draft", k)
			}
			return nil, fmt.Errorf("unknown parameter %q", k)
		}
		n := len(subs) - 1
		switch k {
		case "draft":
			sub, err := parseLiveTopic(v)
			if err != nil {
				return nil, err
			}
			if sub.View == live.ViewCheckpoint {
				drafts++
			} else {
				topics++
			}
			if drafts > maxLiveDrafts {
				return nil, fmt.Errorf("at most %d drafts per connection", maxLiveDrafts)
			}
			if topics > maxLiveTopics {
				return nil, fmt.Errorf("at most %d topics per connection", maxLiveTopics)
			}
			subs = append(subs, sub)
			set = append(set, seen{})
		case "rev", "version":
			if k == "rev" && set[n].rev || k == "version" && set[n].version {
				return nil, fmt.Errorf("%s given twice for draft %s", k, subs[n].Target)
			}
			r, err := parseRev(v)
			if err != nil {
				return nil, fmt.Errorf("%s: %w", k, err)
			}
			if k == "rev" {
				set[n].rev = true
			} else {
				set[n].version = true
			}
			subs[n].Rev = max(subs[n].Rev, r)
		case "view":
			if set[n].view {
				return nil, fmt.Errorf("view given twice for draft %s", subs[n].Target)
			}
			view, err := parseView(v)
			if err != nil {
				return nil, err
			}
			if !live.ValidSubscription(subs[n].Target, view) {
				return nil, fmt.Errorf("view %s does not fit %s", view, subs[n].Target)
			}
			set[n].view = true
			subs[n].View = view
		default:
			return nil, fmt.Errorf("unknown parameter %q", k)
		}
	}
	if len(subs) == 0 {
		return nil, errors.New("at least one draft is required")
	}
	for i := range subs {
		subs[i].Deltas = deltas
	}
	return subs, nil
}

// parseLiveTopic reads a draft parameter: a draft's UUID (view checkpoint until a view
// follows) or a topic, drafts:{n}, runs:{n}, audit:{n}, workspace:{n} or user:{n} (with its
// only view).
func parseLiveTopic(v string) (live.Subscription, error) {
	id := strings.ToLower(v)
	if onboarding.IsGUID(id) {
		return live.Subscription{Target: id, View: live.ViewCheckpoint}, nil
	}
	prefix, _, ok := live.ParseTopic(v)
	if !ok {
		return live.Subscription{}, errors.New("draft must be a UUID or a topic (drafts:{n}, runs:{n}, audit:{n}, workspace:{n}, user:{n})")
	}
	view := live.ViewDigest
	if prefix == live.TopicUserPrefix {
		view = live.ViewBell
	}
	return live.Subscription{Target: v, View: view}, nil
}

// parseRev accepts a non-negative decimal integer (digits only).
func parseRev(s string) (int64, error) {
	if s == "" || len(s) > 18 || strings.TrimLeft(s, "0123456789") != "" {
		return 0, errors.New("want a non-negative integer")
	}
	return strconv.ParseInt(s, 10, 64)
}

// parseView reads a view parameter with the hub's grammar (live.ParseView), where a run id
// is a UUID, lower-cased.
func parseView(s string) (string, error) {
	v, err := live.ParseView(s)
	if err == nil && v.RunID != "" && !onboarding.IsGUID(v.RunID) {
		err = errors.New("a run view names its run by UUID")
	}
	if err != nil {
		return "", err
	}
	v.RunID = strings.ToLower(v.RunID)
	return v.String(), nil
}
