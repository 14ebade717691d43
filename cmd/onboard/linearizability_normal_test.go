//go:build !brokenversion

package main

import "github.com/anishathalye/porcupine"

// wantLinearizability is what TestLinearizability expects of the real service: every history
// of If-Match writes and reads is linearizable.
const wantLinearizability = porcupine.Ok

// linOpsEach is how many operations each client of TestLinearizability performs: 4,000 in
// all, thousands of them overlapping stale writes that a broken version check would let
// through (it lets one through within the first few dozen). `make soak` runs 600 each.
const linOpsEach = 250
