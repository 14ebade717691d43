//go:build !brokenversion

package onboarding

// checkVersion is a test-only switch for the linearizability test (cmd/onboard): built with
// the brokenversion tag, Service.write skips the expected-version check so the test can prove
// it detects lost updates. Normal builds always check.
const checkVersion = true
