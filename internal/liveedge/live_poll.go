package liveedge

import (
	"bytes"
	"context"
	"net/http"

	"github.com/tenantops/onboard/internal/live"
)

// ServePoll is GET /live/poll: the poll fallback for everything a page shows live, in
// one conditional request per page (docs/live.md, Poll). The query is /live's: every
// (draft, view) shown with the rev shown. The answer is one frame of every fragment whose
// current rev is newer, as the socket's catch-up would send it (a single fragment or a batch),
// or 304 with no body when none is. Refusals are HTTP statuses: 401 no session, 400 a bad
// query, 404 a draft that is not there for this user, 403 no view capability.
//
// It is a short-lived hub client: Subscribe authorises, reuses current snapshots and renders
// and queues the catch-up; the handler takes what was queued and closes the client.
func (s *Endpoint) ServePoll(w http.ResponseWriter, r *http.Request) {
	cfg, u, subs, ok := s.liveRequest(w, r)
	if !ok {
		return
	}
	ctx, cancel := context.WithTimeout(r.Context(), cfg.subscribeTimeout())
	defer cancel()
	if subs = s.movedOnly(ctx, cfg, u.ID, subs); len(subs) == 0 {
		cfg.Metrics.polled("not_modified")
		w.Header().Set("Cache-Control", "no-store")
		w.WriteHeader(http.StatusNotModified)
		return
	}
	client, err := cfg.Hub.SubscribeAs(ctx, live.Viewer{UserID: u.ID, Sessions: s.edge.SessionKeys(r)}, subs)
	if err != nil {
		cfg.Metrics.polled("refused")
		cfg.Metrics.refused(s.edge.Faults.Refusal(err))
		p := s.edge.Faults.Poll(err)
		if p.Status >= 500 {
			s.log.ErrorContext(r.Context(), "live: poll", "user", u.ID, "err", err)
		}
		s.edge.WriteProblem(w, p)
		return
	}
	frames := drain(client)
	client.Close()
	w.Header().Set("Cache-Control", "no-store")
	if len(frames) == 0 {
		cfg.Metrics.polled("not_modified")
		w.WriteHeader(http.StatusNotModified)
		return
	}
	cfg.Metrics.polled("changed")
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	_, _ = w.Write(joinFrames(frames))
}

// movedOnly drops the draft subscriptions whose draft did not move past the rev the page
// shows, by one CurrentRevs query instead of the hub loading each draft's snapshot (a 500-row
// list polls 500 drafts; docs/live.md, Poll). Topics, and drafts CurrentRevs does not vouch
// for (unknown, or not the viewer's), stay: the hub answers or refuses them. Without
// CurrentRevs, or when it fails, every subscription stays.
func (s *Endpoint) movedOnly(ctx context.Context, cfg *Config, user int64, subs []live.Subscription) []live.Subscription {
	if cfg.CurrentRevs == nil {
		return subs
	}
	var ids []string
	seen := map[string]bool{}
	for _, sub := range subs {
		if _, _, topic := live.ParseTopic(sub.Target); !topic && !seen[sub.Target] {
			seen[sub.Target] = true
			ids = append(ids, sub.Target)
		}
	}
	if len(ids) == 0 {
		return subs
	}
	revs, err := cfg.CurrentRevs(ctx, user, ids)
	if err != nil {
		s.log.WarnContext(ctx, "live: poll revs", "user", user, "err", err)
		return subs
	}
	out := subs[:0:0]
	for _, sub := range subs {
		if rev, ok := revs[sub.Target]; !ok || rev > sub.Rev {
			out = append(out, sub)
		}
	}
	return out
}

// drain takes every frame queued for c without waiting.
func drain(c *live.Client) [][]byte {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	var frames [][]byte
	for {
		b, err := c.Next(ctx)
		if err != nil {
			return frames
		}
		frames = append(frames, b)
	}
}

// joinFrames makes one frame of several: a lone frame as it is, else every fragment as a
// batch part (a batch frame's parts are kept as they are).
func joinFrames(frames [][]byte) []byte {
	if len(frames) == 1 {
		return frames[0]
	}
	var b bytes.Buffer
	for _, f := range frames {
		if bytes.HasPrefix(f, []byte(live.BatchOpen)) {
			b.Write(f)
		} else {
			b.Write(live.BatchFrame(f))
		}
	}
	return b.Bytes()
}
