//go:build brokenversion

package main

import "github.com/anishathalye/porcupine"

// wantLinearizability: built with -tags brokenversion the service skips the version check
// (internal/onboarding/versioncheck_broken.go), stale writes win, and the checker must say so.
const wantLinearizability = porcupine.Illegal
