package liveedge

import (
	"bufio"
	"bytes"
	"context"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/coder/websocket"
)

// TestSmallBuffersThroughAccept: a /live socket reads and writes through coder/websocket as
// before, with a liveReadBuffer-byte read buffer and a liveWriteBuffer-byte write buffer; a
// frame the client sent in the same packet as its upgrade request (in net/http's buffer at the
// hijack) is read, not lost: coder/websocket re-reads what the hijacked reader holds and
// resets it onto the connection.
func TestSmallBuffersThroughAccept(t *testing.T) {
	replySizes := []int{5, 31, 2000, 70000}
	t.Parallel()
	for _, tc := range []struct {
		name     string
		together bool // the frame goes out with the request, before the 101 is read
	}{{"FrameWithTheRequest", true}, {"FrameAfterTheUpgrade", false}} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got := make(chan string, 2)
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				c, err := websocket.Accept(smallBuffers{w}, r, &websocket.AcceptOptions{InsecureSkipVerify: true})
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
				for _, n := range replySizes {
					if err := c.Write(ctx, websocket.MessageText, bytes.Repeat([]byte("r"), n)); err != nil {
						got <- "write: " + err.Error()
						return
					}
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
			// The server's frames, written through the small write buffer (a writev each).
			_ = conn.SetReadDeadline(time.Now().Add(10 * time.Second))
			for _, n := range replySizes {
				want := serverFrame(bytes.Repeat([]byte("r"), n))
				b := make([]byte, len(want))
				if _, err := io.ReadFull(br, b); err != nil {
					t.Fatalf("reading the %d-byte reply: %v", n, err)
				}
				if !bytes.Equal(b, want) {
					t.Fatalf("the %d-byte reply arrived as %.20q…, want %.20q…", n, b, want)
				}
			}
		})
	}
}

// TestSmallBuffersSizes: without early bytes the socket's read buffer is liveReadBuffer bytes,
// and its write buffer is liveWriteBuffer bytes.
func TestSmallBuffersSizes(t *testing.T) {
	t.Parallel()
	size := make(chan int, 2)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		conn, brw, err := smallBuffers{w}.Hijack()
		if err != nil {
			size <- -1
			return
		}
		defer conn.Close()
		size <- brw.Reader.Size()
		size <- brw.Writer.Size()
	}))
	t.Cleanup(srv.Close)
	resp, err := http.Get(srv.URL)
	if err == nil {
		resp.Body.Close()
	}
	if n := <-size; n != liveReadBuffer {
		t.Errorf("read buffer of %d bytes, want %d", n, liveReadBuffer)
	}
	if n := <-size; n != liveWriteBuffer {
		t.Errorf("write buffer of %d bytes, want %d", n, liveWriteBuffer)
	}
}

// recordingConn records each write it is given: a writev is one write, as on a TCP socket.
type recordingConn struct{ writes [][]byte }

func (c *recordingConn) Write(p []byte) (int, error) {
	c.writes = append(c.writes, append([]byte(nil), p...))
	return len(p), nil
}

func (c *recordingConn) WriteBuffers(v *net.Buffers) (int64, error) {
	var b []byte
	for _, p := range *v {
		b = append(b, p...)
	}
	*v = nil
	c.writes = append(c.writes, b)
	return int64(len(b)), nil
}

// hijackRecorder is an upgrade's ResponseWriter whose hijacked connection writes through a
// frameWriter into rec, as smallBuffers sets it up.
type hijackRecorder struct {
	*httptest.ResponseRecorder
	conn net.Conn
	rec  *recordingConn
}

func (h hijackRecorder) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	return h.conn, bufio.NewReadWriter(bufio.NewReaderSize(h.conn, liveReadBuffer),
		bufio.NewWriterSize(&frameWriter{conn: h.rec}, liveWriteBuffer)), nil
}

// serverFrame is an unmasked text frame as RFC 6455 lays it out.
func serverFrame(payload []byte) []byte {
	b := []byte{0x81}
	switch n := len(payload); {
	case n < 126:
		b = append(b, byte(n))
	case n <= 0xffff:
		b = append(b, 126, byte(n>>8), byte(n))
	default:
		b = append(b, 127, 0, 0, 0, 0, byte(n>>24), byte(n>>16), byte(n>>8), byte(n))
	}
	return append(b, payload...)
}

// TestFrameWriterOneWritePerFrame: every message coder/websocket writes through the small
// write buffer reaches the connection as one write holding exactly its frame, whatever its
// size (around the buffer's size and each header length).
func TestFrameWriterOneWritePerFrame(t *testing.T) {
	t.Parallel()
	server, client := net.Pipe()
	defer client.Close()
	rec := &recordingConn{}
	req := httptest.NewRequest(http.MethodGet, "/live", nil)
	for k, v := range map[string]string{"Connection": "Upgrade", "Upgrade": "websocket",
		"Sec-WebSocket-Version": "13", "Sec-WebSocket-Key": "dGhlIHNhbXBsZSBub25jZQ=="} {
		req.Header.Set(k, v)
	}
	c, err := websocket.Accept(hijackRecorder{httptest.NewRecorder(), server, rec}, req,
		&websocket.AcceptOptions{CompressionMode: websocket.CompressionDisabled})
	if err != nil {
		t.Fatal(err)
	}
	defer c.CloseNow()
	for _, size := range []int{0, 1, 29, 30, 31, 32, 33, 100, 125, 126, 127, 2000, 65535, 65536, 70000} {
		payload := make([]byte, size)
		for i := range payload {
			payload[i] = byte('a' + i%26)
		}
		before := len(rec.writes)
		if err := c.Write(context.Background(), websocket.MessageText, payload); err != nil {
			t.Fatalf("%d bytes: %v", size, err)
		}
		got := rec.writes[before:]
		if len(got) != 1 {
			t.Errorf("%d-byte message: %d writes, want 1", size, len(got))
			continue
		}
		if want := serverFrame(payload); !bytes.Equal(got[0], want) {
			t.Errorf("%d-byte message: wrote %d bytes %.20q…, want the %d-byte frame %.20q…", size, len(got[0]), got[0], len(want), want)
		}
	}
}

// TestFrameWriterWritesWhatDoesNotFit: bytes ending inside a frame are held only when they
// fit; otherwise they go out at once, and nothing is held past a frame's end.
func TestFrameWriterWritesWhatDoesNotFit(t *testing.T) {
	t.Parallel()
	rec := &recordingConn{}
	w := &frameWriter{conn: rec}
	frame := serverFrame(bytes.Repeat([]byte("x"), 2000))
	steps := []struct {
		p          []byte
		wantWrites int
	}{
		{frame[:10], 0},       // inside the frame, fits: held
		{frame[10:100], 1},    // still inside, does not fit: held + these, at once
		{frame[100:], 2},      // the frame's end
		{frame[:4], 2},        // the next frame's header: held
		{frame[4:], 3},        // its end: one write with the header
		{serverFrame(nil), 4}, // a whole frame: at once
	}
	for i, s := range steps {
		if n, err := w.Write(s.p); n != len(s.p) || err != nil {
			t.Fatalf("step %d: wrote %d of %d, %v", i, n, len(s.p), err)
		}
		if len(rec.writes) != s.wantWrites {
			t.Fatalf("step %d: %d writes, want %d", i, len(rec.writes), s.wantWrites)
		}
	}
	if got := bytes.Join(rec.writes, nil); !bytes.Equal(got, append(append(append([]byte(nil), frame...), frame...), serverFrame(nil)...)) {
		t.Errorf("the connection got %d bytes, not the frames in order", len(got))
	}
	if !bytes.Equal(rec.writes[2], frame) {
		t.Errorf("the second frame went out as %d bytes, want one write of its %d", len(rec.writes[2]), len(frame))
	}
}
