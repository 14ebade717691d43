//go:build brokenversion

package onboarding

// checkVersion is false only with the brokenversion build tag: a deliberately broken service
// for the linearizability test to catch (see versioncheck.go). Never build the app with it.
const checkVersion = false
