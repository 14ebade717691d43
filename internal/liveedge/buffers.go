package liveedge

import (
	"bufio"
	"encoding/binary"
	"io"
	"math"
	"net"
	"net/http"
)

// A /live socket lives for hours and is idle nearly all of that time, so what it keeps is
// what 10,000 tabs cost (docs/benchmarks.md, Idle memory). net/http hands a hijacked
// connection over with a 4 KiB read buffer and a 4 KiB write buffer, and coder/websocket reads
// and writes through them for the socket's life. smallBuffers replaces both.

// liveReadBuffer is the read buffer of a /live socket. The browser sends only pongs and
// presence frames, a few hundred bytes a minute.
const liveReadBuffer = 128

// liveWriteBuffer is the write buffer coder/websocket writes a frame's header and payload
// through; frameWriter holds the start of a frame that does not fit until its rest comes.
const liveWriteBuffer = 32

// smallBuffers is the upgrade's ResponseWriter whose Hijack gives coder/websocket a read
// buffer of liveReadBuffer bytes and a write buffer of liveWriteBuffer bytes over a
// frameWriter, instead of net/http's 4 KiB ones.
//
// When the browser's first bytes are already in net/http's read buffer (sent before the
// hijack ended), that buffer is kept as it is: coder/websocket re-reads what is buffered and
// resets the reader onto the connection, so only a buffer holding them keeps them. net/http
// has flushed its write buffer before the hijack returns (the 101 response).
type smallBuffers struct{ http.ResponseWriter }

func (w smallBuffers) Unwrap() http.ResponseWriter { return w.ResponseWriter }

func (w smallBuffers) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	conn, brw, err := http.NewResponseController(w.ResponseWriter).Hijack()
	if err != nil {
		return conn, brw, err
	}
	r, wr := brw.Reader, brw.Writer
	if r.Buffered() == 0 {
		r = bufio.NewReaderSize(conn, liveReadBuffer)
	}
	if wr.Buffered() == 0 {
		wr = bufio.NewWriterSize(&frameWriter{conn: conn}, liveWriteBuffer)
	}
	return conn, bufio.NewReadWriter(r, wr), nil
}

// frameWriter is the connection under coder/websocket's small write buffer. It keeps a frame
// one write(2): coder/websocket writes a frame as its header, then its payload, then a flush;
// through a liveWriteBuffer-byte bufio.Writer a larger frame reaches frameWriter as the
// buffer's first liveWriteBuffer bytes and then the rest in one piece. frameWriter follows
// the frames' headers (RFC 6455, 5.2) and holds bytes that end inside a frame, if they fit,
// until the frame's rest arrives; then it writes both with one writev. Bytes that end on a
// frame boundary, or do not fit, are written at once, so nothing waits for bytes that are
// not coming.
type frameWriter struct {
	conn io.Writer
	held [liveWriteBuffer]byte
	n    int // bytes held

	// Where the stream is: rem bytes of the current frame's payload still to come, after a
	// header of which hn bytes (in hdr) have come so far.
	hdr [maxFrameHeader]byte
	hn  int
	rem uint64

	// The writev's two buffers, kept here so that it does not allocate.
	arr [2][]byte
	vec net.Buffers
}

// maxFrameHeader is the longest frame header: 2 bytes, an 8-byte length and a mask key.
const maxFrameHeader = 14

// vectorWriter writes several buffers at once; a *net.TCPConn does it with one writev
// through net.Buffers, a test's connection records it as one write.
type vectorWriter interface {
	WriteBuffers(*net.Buffers) (int64, error)
}

func (w *frameWriter) Write(p []byte) (int, error) {
	w.advance(p)
	inside := w.rem > 0 || w.hn > 0
	if inside && w.n+len(p) <= len(w.held) {
		w.n += copy(w.held[w.n:], p)
		return len(p), nil
	}
	if w.n == 0 {
		return w.conn.Write(p)
	}
	held := w.n
	w.n = 0
	w.arr = [2][]byte{w.held[:held], p}
	w.vec = w.arr[:]
	var n int64
	var err error
	if vw, ok := w.conn.(vectorWriter); ok {
		n, err = vw.WriteBuffers(&w.vec)
	} else {
		n, err = w.vec.WriteTo(w.conn)
	}
	w.arr, w.vec = [2][]byte{}, nil // keep no reference to the payload
	if n -= int64(held); n < 0 {
		n = 0
	}
	return int(n), err
}

// advance moves the frame position over p.
func (w *frameWriter) advance(p []byte) {
	for len(p) > 0 {
		if w.rem > 0 {
			k := min(uint64(len(p)), w.rem)
			w.rem -= k
			p = p[k:]
			continue
		}
		w.hdr[w.hn] = p[0]
		w.hn++
		p = p[1:]
		if n := frameHeaderLen(w.hdr[:w.hn]); n > 0 && w.hn == n {
			w.rem = framePayloadLen(w.hdr[:n])
			w.hn = 0
		}
	}
}

// frameHeaderLen is the length of the header h starts, or 0 while h is too short to tell.
func frameHeaderLen(h []byte) int {
	if len(h) < 2 {
		return 0
	}
	n := 2
	switch h[1] & 0x7f {
	case 126:
		n += 2
	case 127:
		n += 8
	}
	if h[1]&0x80 != 0 {
		n += 4
	}
	return n
}

// framePayloadLen is the payload length a whole header h gives.
func framePayloadLen(h []byte) uint64 {
	switch l := h[1] & 0x7f; l {
	case 126:
		return uint64(binary.BigEndian.Uint16(h[2:4]))
	case 127:
		return min(binary.BigEndian.Uint64(h[2:10]), math.MaxInt64)
	default:
		return uint64(l)
	}
}
