package live

import (
	"fmt"
	"testing"
)

// TestTake checks the writer's side of the queue: what is queued for one socket goes out as
// one message, in queue order, and the guarantees of the queue still hold.
func TestTake(t *testing.T) {
	t.Parallel()
	t.Run("SeveralQueuedAreOneBatch", func(t *testing.T) { takeSeveralQueuedAreOneBatch(t) })
	t.Run("LoneFrameIsNotWrapped", func(t *testing.T) { takeLoneFrameIsNotWrapped(t) })
	t.Run("MessageIsBounded", func(t *testing.T) { takeMessageIsBounded(t) })
	t.Run("ClosedReturnsErr", func(t *testing.T) { takeClosedReturnsErr(t) })
	t.Run("OnWake", func(t *testing.T) { takeOnWake(t) })
}

// oneDraft starts a hub over one draft, t1 at rev 1, and subscribes a viewer to it from rev.
func oneDraft(t *testing.T, rev int64) (*fixture, *Client) {
	t.Helper()
	f := setup(t, Options{})
	f.auth.set(1, 1, "viewer")
	f.src.put("t1", 1, 1)
	return f, f.subscribe(t, 1, Subscription{Target: "t1", Rev: rev})
}

// takeOnWake: a client with OnWake has it called, instead of Ready signalled, when a frame is
// queued, and once more when it ends.
func takeOnWake(t *testing.T) {
	t.Parallel()
	f, c := oneDraft(t, 1)
	woken := make(chan struct{}, 8)
	c.OnWake(func() { woken <- struct{}{} })
	f.src.put("t1", 1, 2)
	f.hub.Notify(Event{Kind: KindDraft, DraftID: "t1"})
	f.waitPass(t, "t1")
	select {
	case <-woken:
	default:
		t.Fatal("a queued frame did not call OnWake's function")
	}
	select {
	case <-c.Ready():
		t.Error("Ready was signalled as well")
	default:
	}
	if _, _, n, err := c.Take(); n != 1 || err != nil {
		t.Fatalf("Take = %d frames, %v; want 1", n, err)
	}
	c.Close()
	select {
	case <-woken:
	default:
		t.Fatal("the client's end did not call OnWake's function")
	}
	if _, _, _, err := c.Take(); err == nil {
		t.Error("Take after the end: no error")
	}
}

func takeSeveralQueuedAreOneBatch(t *testing.T) {
	t.Parallel()
	f := setup(t, Options{})
	f.auth.set(1, 1, "viewer")
	var subs []Subscription
	for _, id := range []string{"t1", "t2", "t3"} {
		f.src.put(id, 1, 1)
		subs = append(subs, Subscription{Target: id, Rev: 1})
	}
	c := f.subscribe(t, 1, subs...)
	for i, id := range []string{"t1", "t2", "t3"} {
		f.src.put(id, 1, int64(10+i))
		f.hub.Notify(Event{Kind: KindDraft, DraftID: id})
		f.waitPass(t, id)
	}
	// A newer t1 replaces its queued frame in place (latest wins), ahead of t2 and t3.
	f.src.put("t1", 1, 20)
	f.hub.Notify(Event{Kind: KindDraft, DraftID: "t1"})
	f.waitPass(t, "t1")

	msg, _, n, err := c.Take()
	if err != nil || n != 3 {
		t.Fatalf("Take = %d frames, %v; want 3, nil", n, err)
	}
	parts := splitBatch(msg)
	var got []int64
	for _, p := range parts {
		got = append(got, revOf(t, []byte(p)))
	}
	if want := []int64{20, 11, 12}; fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("one message with revs %v, want the batch %v", got, want)
	}
	if _, _, n, _ := c.Take(); n != 0 {
		t.Errorf("second Take = %d frames, want 0", n)
	}
	if st := f.hub.Stats(); st.FramesQueued != 4 || st.FramesDropped != 1 {
		t.Errorf("FramesQueued %d, FramesDropped %d; want 4, 1", st.FramesQueued, st.FramesDropped)
	}
}

func takeLoneFrameIsNotWrapped(t *testing.T) {
	t.Parallel()
	f, c := oneDraft(t, 1)
	f.src.put("t1", 1, 2)
	f.hub.Notify(Event{Kind: KindDraft, DraftID: "t1"})
	<-c.Ready()
	msg, _, n, err := c.Take()
	if err != nil || n != 1 || len(splitBatch(msg)) != 1 || msg[0] != '<' || string(msg[:len(BatchOpen)]) == BatchOpen {
		t.Fatalf("Take = %q, %d, %v; want the lone fragment as it is", msg, n, err)
	}
}

func takeMessageIsBounded(t *testing.T) {
	// Many large fragments queued at once go out in several messages of at most
	// maxBatchBytes of fragments each, every fragment exactly once.
	t.Parallel()
	f := setup(t, Options{})
	f.src.pad = 10 << 10
	f.auth.set(1, 1, "viewer")
	var ids []string
	var subs []Subscription
	for i := range 20 {
		id := fmt.Sprintf("m%02d", i)
		ids = append(ids, id)
		f.src.put(id, 1, 1)
		subs = append(subs, Subscription{Target: id, Rev: 1})
	}
	c := f.subscribe(t, 1, subs...)
	for _, id := range ids {
		f.src.put(id, 1, 2)
		f.hub.Notify(Event{Kind: KindDraft, DraftID: id})
		f.waitPass(t, id)
	}
	total, messages := 0, 0
	for {
		msg, _, n, err := c.Take()
		if err != nil {
			t.Fatal(err)
		}
		if n == 0 {
			break
		}
		if len(msg) > maxBatchBytes+n*len(BatchOpen+batchEnd) {
			t.Fatalf("message of %d bytes for %d frames, want at most %d of fragments", len(msg), n, maxBatchBytes)
		}
		if got := len(splitBatch(msg)); got != n {
			t.Fatalf("message has %d fragments, Take said %d", got, n)
		}
		total += n
		messages++
	}
	if total != 20 || messages < 4 {
		t.Errorf("%d fragments in %d messages, want 20 in at least 4 (20 × 10 KiB)", total, messages)
	}
}

func takeClosedReturnsErr(t *testing.T) {
	t.Parallel()
	_, c := oneDraft(t, 0) // a catch-up frame is queued
	c.Close()
	if _, _, n, err := c.Take(); n != 0 || err != ErrClosed {
		t.Errorf("Take after Close = %d frames, %v; want 0, ErrClosed", n, err)
	}
}
