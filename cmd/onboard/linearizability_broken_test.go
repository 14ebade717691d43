//go:build brokenversion

package main

import "github.com/anishathalye/porcupine"

// wantLinearizability: built with -tags brokenversion the service skips the version check
// (internal/onboarding/versioncheck_broken.go), stale writes win, and the checker must say so.
const wantLinearizability = porcupine.Illegal

// linOpsEach is a quarter of the real run's: the broken check lets through a stale write in
// the first few dozen operations, so 2,400 show it many times over, and make test runs this
// build after the real one.
const linOpsEach = 150
