// Package onboarding is the domain of managed-tenant onboarding drafts: the lifecycle,
// checkpoint and reason-code vocabulary, the pure evaluation that owns the five lifecycle
// columns, activation readiness, the wizard's stage resolver, input validation and the errors
// every layer maps to HTTP. Standard library only (plus the sibling domain package operation).
//
// The lifecycle rules are documented, rule by rule, in docs/lifecycle.md.
package onboarding
