//go:build !brokenversion

package main

import "github.com/anishathalye/porcupine"

// wantLinearizability is what TestLinearizability expects of the real service: every history
// of If-Match writes and reads is linearizable.
const wantLinearizability = porcupine.Ok
