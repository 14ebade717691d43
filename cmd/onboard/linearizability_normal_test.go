//go:build !brokenversion

package main

import "github.com/anishathalye/porcupine"

// wantLinearizability is what TestLinearizability expects of the real service: every history
// of If-Match writes and reads is linearizable.
const wantLinearizability = porcupine.Ok

// linOpsEach is how many operations each client of TestLinearizability performs: enough for
// thousands of overlapping stale writes that a broken version check would let through.
const linOpsEach = 600
