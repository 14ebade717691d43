package liveedge

import (
	"bufio"
	"context"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/coder/websocket"
)

// TestSmallReadsThroughAccept: a /live socket reads through coder/websocket as before, with a
// liveReadBuffer-byte buffer, and a frame the client sent in the same packet as its upgrade
// request (in net/http's buffer at the hijack) is read, not lost: coder/websocket re-reads
// what the hijacked reader holds and resets it onto the connection.
func TestSmallReadsThroughAccept(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name     string
		together bool // the frame goes out with the request, before the 101 is read
	}{{"FrameWithTheRequest", true}, {"FrameAfterTheUpgrade", false}} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got := make(chan string, 2)
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				c, err := websocket.Accept(smallReads{w}, r, &websocket.AcceptOptions{InsecureSkipVerify: true})
				if err != nil {
					got <- "accept: " + err.Error()
					return
				}
				defer c.CloseNow()
				ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
				defer cancel()
				for range 2 {
					_, b, err := c.Read(ctx)
					if err != nil {
						got <- "read: " + err.Error()
						return
					}
					got <- string(b)
				}
			}))
			t.Cleanup(srv.Close)
			conn, err := net.Dial("tcp", srv.Listener.Addr().String())
			if err != nil {
				t.Fatal(err)
			}
			defer conn.Close()
			req := "GET / HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
				"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n"
			// Masked text frames with a zero mask key (the payload is sent as it is).
			frame := func(s string) string { return string([]byte{0x81, byte(0x80 | len(s)), 0, 0, 0, 0}) + s }
			br := bufio.NewReader(conn)
			readUpgrade := func() {
				resp, err := http.ReadResponse(br, nil)
				if err != nil || resp.StatusCode != http.StatusSwitchingProtocols {
					t.Fatalf("upgrade: %v %v", resp, err)
				}
			}
			if tc.together {
				_, err = io.WriteString(conn, req+frame("first"))
				readUpgrade()
			} else {
				_, err = io.WriteString(conn, req)
				readUpgrade()
				_, err = io.WriteString(conn, frame("first"))
			}
			if err != nil {
				t.Fatal(err)
			}
			if _, err := io.WriteString(conn, frame("second")); err != nil {
				t.Fatal(err)
			}
			for _, want := range []string{"first", "second"} {
				if g := <-got; g != want {
					t.Fatalf("server read %q, want %q", g, want)
				}
			}
		})
	}
}

// TestSmallReadsBuffer: without early bytes the socket's read buffer is liveReadBuffer bytes.
func TestSmallReadsBuffer(t *testing.T) {
	t.Parallel()
	size := make(chan int, 1)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		conn, brw, err := smallReads{w}.Hijack()
		if err != nil {
			size <- -1
			return
		}
		defer conn.Close()
		size <- brw.Reader.Size()
	}))
	t.Cleanup(srv.Close)
	resp, err := http.Get(srv.URL)
	if err == nil {
		resp.Body.Close()
	}
	if n := <-size; n != liveReadBuffer {
		t.Errorf("read buffer of %d bytes, want %d", n, liveReadBuffer)
	}
}
