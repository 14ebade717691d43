package main

import (
	"context"
	"io"
	"log/slog"
	"net"
	"net/http"
	"testing"
)

func TestPprofAddr(t *testing.T) {
	t.Parallel()
	log := slog.New(slog.DiscardHandler)
	t.Run("NotLoopbackRefused", func(t *testing.T) {
		t.Parallel()
		for _, addr := range []string{"0.0.0.0:0", ":0", "[::]:0", "example.com:6060", "no-port"} {
			if err := startPprof(t.Context(), addr, log); err == nil {
				t.Errorf("startPprof(%q) = nil, want an error (loopback only)", addr)
			}
		}
	})
	t.Run("Off", func(t *testing.T) {
		t.Parallel()
		if err := startPprof(t.Context(), "", log); err != nil {
			t.Errorf("startPprof(\"\") = %v, want nil", err)
		}
	})
	t.Run("Loopback", func(t *testing.T) {
		t.Parallel()
		// Reserve a free loopback port, then serve pprof on it.
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		addr := ln.Addr().String()
		ln.Close()
		ctx, cancel := context.WithCancel(t.Context())
		defer cancel()
		if err := startPprof(ctx, addr, log); err != nil {
			t.Fatalf("startPprof(%q): %v", addr, err)
		}
		resp, err := http.Get("http://" + addr + "/debug/pprof/cmdline")
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		if _, err := io.ReadAll(resp.Body); err != nil || resp.StatusCode != http.StatusOK {
			t.Errorf("GET /debug/pprof/cmdline: status %d, %v; want 200", resp.StatusCode, err)
		}
	})
}
