package liveedge

import (
	"bufio"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"testing"
)

// TestSmallReadsKeepsEarlyBytes: a /live socket reads through a liveReadBuffer-byte buffer,
// not net/http's 4 KiB one, and bytes the client sent in the same packet as its request
// (already in net/http's buffer at the hijack) are read first, before what follows.
func TestSmallReadsKeepsEarlyBytes(t *testing.T) {
	t.Parallel()
	type hijacked struct {
		size int
		read string
		err  error
	}
	got := make(chan hijacked, 1)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		conn, brw, err := smallReads{w}.Hijack()
		if err != nil {
			got <- hijacked{err: err}
			return
		}
		defer conn.Close()
		b := make([]byte, len("early bytes|later bytes"))
		_, err = io.ReadFull(brw.Reader, b[:len("early bytes")])
		if err == nil {
			_, _ = conn.Write([]byte("go on")) // the client sends the rest only now
			_, err = io.ReadFull(brw.Reader, b[len("early bytes"):])
		}
		got <- hijacked{size: brw.Reader.Size(), read: string(b), err: err}
	}))
	t.Cleanup(srv.Close)
	c, err := net.Dial("tcp", srv.Listener.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	// The request and the first bytes in one write.
	if _, err := io.WriteString(c, "GET /live HTTP/1.1\r\nHost: x\r\n\r\nearly bytes"); err != nil {
		t.Fatal(err)
	}
	if _, err := io.ReadFull(bufio.NewReader(c), make([]byte, len("go on"))); err != nil {
		t.Fatal(err)
	}
	if _, err := io.WriteString(c, "|later bytes"); err != nil {
		t.Fatal(err)
	}
	h := <-got
	if h.err != nil {
		t.Fatal(h.err)
	}
	if h.read != "early bytes|later bytes" {
		t.Errorf("read %q, want the early bytes, then the later ones", h.read)
	}
	if h.size != liveReadBuffer {
		t.Errorf("read buffer of %d bytes, want %d", h.size, liveReadBuffer)
	}
}
