// Package provider declares what the onboarding console needs from a tenant's management
// provider (verify access, run bootstrap operations) and implements a deterministic simulated
// provider for demos and tests. Standard library only.
package provider

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
)

// ErrTransient is wrapped by errors worth retrying with backoff (throttling, timeouts, the
// provider being briefly unavailable). Permanent problems are not errors: they are reported
// in a Report or BootstrapResult.
var ErrTransient = errors.New("provider: transient failure")

// ErrUnknownOperation is wrapped when Bootstrap is asked for an operation the provider does
// not offer. It is permanent: retrying cannot help.
var ErrUnknownOperation = errors.New("provider: unknown bootstrap operation")

// Connection is how to reach one tenant. Secret is plaintext only in memory: Connection's
// String, GoString and LogValue omit it, so printing or logging a Connection is safe.
type Connection struct {
	TenantID      string
	PrimaryDomain string
	ClientID      string
	Secret        string
}

// String describes c without its secret.
func (c Connection) String() string {
	return fmt.Sprintf("{TenantID:%s PrimaryDomain:%s ClientID:%s Secret:%s}",
		c.TenantID, c.PrimaryDomain, c.ClientID, maskSecret(c.Secret))
}

// GoString describes c without its secret, for %#v.
func (c Connection) GoString() string {
	return fmt.Sprintf("provider.Connection{TenantID:%q, PrimaryDomain:%q, ClientID:%q, Secret:%q}",
		c.TenantID, c.PrimaryDomain, c.ClientID, maskSecret(c.Secret))
}

// LogValue implements slog.LogValuer without the secret.
func (c Connection) LogValue() slog.Value {
	return slog.GroupValue(
		slog.String("tenant_id", c.TenantID),
		slog.String("primary_domain", c.PrimaryDomain),
		slog.String("client_id", c.ClientID),
		slog.String("secret", maskSecret(c.Secret)),
	)
}

func maskSecret(s string) string {
	if s == "" {
		return ""
	}
	return "[redacted]"
}

// Check statuses.
const (
	CheckPassed  = "passed"
	CheckFailed  = "failed"
	CheckWarning = "warning"
	CheckSkipped = "skipped"
)

// CheckStatuses lists every check status.
var CheckStatuses = []string{CheckPassed, CheckFailed, CheckWarning, CheckSkipped}

// Check is one named verification check.
type Check struct {
	Name           string `json:"name"`  // stable machine name, e.g. "admin_consent"
	Title          string `json:"title"` // shown to operators
	Status         string `json:"status"`
	Message        string `json:"message,omitempty"`
	RemediationURL string `json:"remediation_url,omitempty"`
	Permission     string `json:"permission,omitempty"` // the Graph permission the check is about, if any
}

// Report is the result of a verification: every check, and why it failed, if it did.
type Report struct {
	Checks     []Check `json:"checks"`
	ReasonCode string  `json:"reason_code,omitempty"` // a run reason code (operation.ReasonMissingPermissions, …); "" when passed
}

// Passed reports whether no check failed. Warnings and skipped checks do not block.
func (r Report) Passed() bool {
	for _, c := range r.Checks {
		if c.Status == CheckFailed {
			return false
		}
	}
	return true
}

// Counts summarises the checks: passed and warning count as succeeded.
func (r Report) Counts() Counts {
	c := Counts{Total: len(r.Checks)}
	for _, ch := range r.Checks {
		switch ch.Status {
		case CheckPassed, CheckWarning:
			c.Succeeded++
		case CheckFailed:
			c.Failed++
		case CheckSkipped:
			c.Skipped++
		}
	}
	return c
}

// Counts are the summary counts of a provider run.
type Counts struct {
	Total     int `json:"total"`
	Succeeded int `json:"succeeded"`
	Failed    int `json:"failed"`
	Skipped   int `json:"skipped"`
}

// Item statuses.
const (
	ItemSucceeded = "succeeded"
	ItemFailed    = "failed"
	ItemSkipped   = "skipped"
)

// ItemStatuses lists every item status.
var ItemStatuses = []string{ItemSucceeded, ItemFailed, ItemSkipped}

// Item is one object a bootstrap operation handled.
type Item struct {
	Name    string `json:"name"`
	Status  string `json:"status"`
	Message string `json:"message,omitempty"`
}

// BootstrapResult is what a bootstrap operation did, item by item.
type BootstrapResult struct {
	Counts
	Items []Item `json:"items"`
}

// Progress receives (done, total) while a run works. Providers call it at most about once a
// second and from the calling goroutine; it must be cheap and must not block for long.
type Progress func(done, total int)

// Provider reaches a tenant's management APIs.
type Provider interface {
	// VerifyAccess checks that c can manage the tenant. A failed verification is a Report
	// with failed checks and a reason code; errors are transient (ErrTransient) or ctx.Err().
	VerifyAccess(ctx context.Context, c Connection, progress Progress) (Report, error)
	// Bootstrap runs one bootstrap operation (e.g. "inventory_sync"). Failed items are
	// reported in the result; errors wrap ErrTransient or ErrUnknownOperation, or are ctx.Err().
	Bootstrap(ctx context.Context, c Connection, operation string, progress Progress) (BootstrapResult, error)
}
