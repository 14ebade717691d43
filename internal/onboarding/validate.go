package onboarding

import (
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/tenantops/onboard/internal/operation"
)

// Limits of the identify inputs.
const (
	MaxDisplayNameRunes = 200
	MaxDomainLength     = 253
	maxLabelLength      = 63
)

// ValidateIdentify checks the identify step's inputs, keyed by their JSON names tenant_id,
// display_name and primary_domain. It returns nil when all are valid; call Err on the result to
// get an error value. Callers normalise first (NormalizeTenantID, NormalizeDisplayName,
// NormalizeDomain).
func ValidateIdentify(tenantID, displayName, primaryDomain string) *ValidationError {
	var v ValidationError
	if !IsGUID(tenantID) {
		v.Add("tenant_id", "must be a GUID (8-4-4-4-12 hexadecimal digits)")
	}
	if msg := displayNameProblem(displayName); msg != "" {
		v.Add("display_name", msg)
	}
	if msg := domainProblem(primaryDomain); msg != "" {
		v.Add("primary_domain", msg)
	}
	if v.Err() == nil {
		return nil
	}
	return &v
}

// NormalizeTenantID trims surrounding space and lower-cases a tenant GUID.
func NormalizeTenantID(s string) string { return asciiLower(strings.TrimSpace(s)) }

// NormalizeDisplayName trims surrounding white space.
func NormalizeDisplayName(s string) string { return strings.TrimSpace(s) }

// NormalizeDomain trims surrounding space, drops one trailing dot (the DNS root) and lower-cases
// ASCII letters only, so that non-ASCII look-alikes (such as the Kelvin sign, which Unicode
// lower-cases to "k") stay invalid instead of turning into a different domain.
func NormalizeDomain(s string) string {
	s = strings.TrimSpace(s)
	s = strings.TrimSuffix(s, ".")
	return asciiLower(s)
}

// ValidateStep checks a wizard step (current_step, 1..5); nil when valid.
func ValidateStep(step int) *ValidationError {
	if step >= 1 && step <= Steps {
		return nil
	}
	v := &ValidationError{}
	v.Add("current_step", fmt.Sprintf("must be between 1 and %d", Steps))
	return v
}

// ValidateBootstrapOperations checks selected bootstrap operations (bootstrap_operations):
// each must be one of operation.BootstrapOperations, without duplicates. An empty selection is
// valid (bootstrap skipped). Nil when valid.
func ValidateBootstrapOperations(ops []string) *ValidationError {
	seen := make(map[string]bool, len(ops))
	for _, op := range ops {
		if _, err := operation.BootstrapType(op); err != nil {
			v := &ValidationError{}
			v.Add("bootstrap_operations", fmt.Sprintf("unknown operation %q", op))
			return v
		}
		if seen[op] {
			v := &ValidationError{}
			v.Add("bootstrap_operations", fmt.Sprintf("operation %q is selected twice", op))
			return v
		}
		seen[op] = true
	}
	return nil
}

// IsGUID reports whether s is 8-4-4-4-12 hexadecimal digits (either case, no braces): the
// text form of tenant, draft and run ids that every layer accepts.
func IsGUID(s string) bool {
	if len(s) != 36 {
		return false
	}
	for i := range len(s) {
		c := s[i]
		switch i {
		case 8, 13, 18, 23:
			if c != '-' {
				return false
			}
		default:
			if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F') {
				return false
			}
		}
	}
	return true
}

func blank(s string) bool { return strings.TrimSpace(s) == "" }

func displayNameProblem(s string) string {
	switch {
	case !utf8.ValidString(s):
		return "must be valid UTF-8"
	case blank(s):
		return "is required"
	case utf8.RuneCountInString(s) > MaxDisplayNameRunes:
		return fmt.Sprintf("must be at most %d characters", MaxDisplayNameRunes)
	case strings.IndexFunc(s, unicode.IsControl) >= 0:
		return "must not contain control characters"
	}
	return ""
}

// domainProblem checks a lower-case DNS host name of at least two labels. The top-level label
// must not be all digits, which keeps IPv4 addresses out.
func domainProblem(s string) string {
	if s == "" {
		return "is required"
	}
	if len(s) > MaxDomainLength {
		return fmt.Sprintf("must be at most %d characters", MaxDomainLength)
	}
	labels := strings.Split(s, ".")
	if len(labels) < 2 {
		return "must have at least two labels (example.com)"
	}
	for _, l := range labels {
		if l == "" || len(l) > maxLabelLength {
			return fmt.Sprintf("each label must have 1 to %d characters", maxLabelLength)
		}
		for i := range len(l) {
			c := l[i]
			if 'A' <= c && c <= 'Z' {
				return "must be lower-case"
			}
			if !('a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '-') {
				return "labels may contain only a-z, 0-9 and '-'"
			}
		}
		if l[0] == '-' || l[len(l)-1] == '-' {
			return "labels must not start or end with '-'"
		}
	}
	if strings.Trim(labels[len(labels)-1], "0123456789") == "" {
		return "the top-level label must not be all digits"
	}
	return ""
}

func asciiLower(s string) string {
	return strings.Map(func(r rune) rune {
		if 'A' <= r && r <= 'Z' {
			return r + ('a' - 'A')
		}
		return r
	}, s)
}
