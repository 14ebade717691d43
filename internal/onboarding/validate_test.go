package onboarding

import (
	"maps"
	"slices"
	"strings"
	"testing"
)

func TestValidateIdentify(t *testing.T) {
	t.Parallel()
	const name, domain = "Contoso Ltd", "contoso.com"
	label63 := strings.Repeat("a", 63)
	// 63+1+63+1+63+1+61 = 253 characters.
	domain253 := label63 + "." + label63 + "." + label63 + "." + strings.Repeat("b", 61)
	tests := []struct {
		name                        string
		tenant, display, primaryDom string
		wantFields                  []string
	}{
		{"OK", testTenant, name, domain, nil},
		{"OKUpperCaseGUID", strings.ToUpper(testTenant), name, domain, nil},
		{"OKUnicodeName200", testTenant, strings.Repeat("é", 200), domain, nil},
		{"OKPunycodeDomain", testTenant, name, "xn--bcher-kva.example", nil},
		{"OKDomain253", testTenant, name, domain253, nil},
		{"OKLabel63", testTenant, name, label63 + ".com", nil},
		{"OKDigitsInLabels", testTenant, name, "123.example1", nil},
		{"AllEmpty", "", "", "", []string{"display_name", "primary_domain", "tenant_id"}},
		{"GUIDBraces", "{" + testTenant + "}", name, domain, []string{"tenant_id"}},
		{"GUIDNonHex", "0f8fad5b-d9cb-469f-a165-70867728950g", name, domain, []string{"tenant_id"}},
		{"GUIDShort", testTenant[:35], name, domain, []string{"tenant_id"}},
		{"GUIDNoDashes", strings.ReplaceAll(testTenant, "-", "") + "0000", name, domain, []string{"tenant_id"}},
		{"GUIDDashMoved", "0f8fad5bd-9cb-469f-a165-70867728950e", name, domain, []string{"tenant_id"}},
		{"GUIDSpace", " " + testTenant[1:], name, domain, []string{"tenant_id"}},
		{"NameBlank", testTenant, " \t ", domain, []string{"display_name"}},
		{"NameTooLong", testTenant, strings.Repeat("é", 201), domain, []string{"display_name"}},
		{"NameNewline", testTenant, "Contoso\nLtd", domain, []string{"display_name"}},
		{"NameNUL", testTenant, "Contoso\x00", domain, []string{"display_name"}},
		{"NameC1Control", testTenant, "Contoso\u0085", domain, []string{"display_name"}},
		{"NameInvalidUTF8", testTenant, "Contoso\xff", domain, []string{"display_name"}},
		{"DomainUpperCase", testTenant, name, "Contoso.com", []string{"primary_domain"}},
		{"DomainSingleLabel", testTenant, name, "contoso", []string{"primary_domain"}},
		{"DomainLeadingHyphen", testTenant, name, "-contoso.com", []string{"primary_domain"}},
		{"DomainTrailingHyphen", testTenant, name, "contoso-.com", []string{"primary_domain"}},
		{"DomainEmptyLabel", testTenant, name, "contoso..com", []string{"primary_domain"}},
		{"DomainLeadingDot", testTenant, name, ".contoso.com", []string{"primary_domain"}},
		{"DomainTrailingDot", testTenant, name, "contoso.com.", []string{"primary_domain"}},
		{"DomainLabel64", testTenant, name, label63 + "a.com", []string{"primary_domain"}},
		{"DomainTooLong254", testTenant, name, "a" + domain253, []string{"primary_domain"}},
		{"DomainUnderscore", testTenant, name, "con_toso.com", []string{"primary_domain"}},
		{"DomainIPv4", testTenant, name, "10.0.0.1", []string{"primary_domain"}},
		{"DomainUnicode", testTenant, name, "münchen.de", []string{"primary_domain"}},
		{"DomainKelvinSign", testTenant, name, "\u212Aontoso.com", []string{"primary_domain"}},
		{"DomainSpace", testTenant, name, "contoso .com", []string{"primary_domain"}},
		{"DomainURL", testTenant, name, "https://contoso.com", []string{"primary_domain"}},
		{"DomainWithPort", testTenant, name, "contoso.com:443", []string{"primary_domain"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			v := ValidateIdentify(tc.tenant, tc.display, tc.primaryDom)
			var got []string
			if v != nil {
				got = slices.Sorted(maps.Keys(v.Fields))
				if len(got) == 0 {
					t.Errorf("ValidateIdentify returned a non-nil error without fields")
				}
			}
			if !slices.Equal(got, tc.wantFields) {
				t.Errorf("ValidateIdentify(%q, %q, %q) fields = %v (%v), want %v", tc.tenant, tc.display, tc.primaryDom, got, v.Err(), tc.wantFields)
			}
		})
	}
}

func TestNormalize(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, fn, in, want string
	}{
		{"DomainCaseSpaceDot", "domain", " Contoso.COM. ", "contoso.com"},
		{"DomainKelvinSignKept", "domain", "\u212Aontoso.com", "\u212Aontoso.com"},
		{"DomainOnlyOneDot", "domain", "contoso.com..", "contoso.com."},
		{"TenantUpper", "tenant", " 0F8FAD5B-D9CB-469F-A165-70867728950E\n", testTenant},
		{"DisplayName", "name", "  Contoso Ltd\t", "Contoso Ltd"},
	}
	fns := map[string]func(string) string{"domain": NormalizeDomain, "tenant": NormalizeTenantID, "name": NormalizeDisplayName}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			if got := fns[tc.fn](tc.in); got != tc.want {
				t.Errorf("normalize %s(%q) = %q, want %q", tc.fn, tc.in, got, tc.want)
			}
		})
	}
}

func TestValidateStep(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		step int
		ok   bool
	}{{"Zero", 0, false}, {"One", 1, true}, {"Five", 5, true}, {"Six", 6, false}, {"Negative", -1, false}} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			v := ValidateStep(tc.step)
			if got := v.Err() == nil; got != tc.ok {
				t.Errorf("ValidateStep(%d) = %v, want ok=%v", tc.step, v.Err(), tc.ok)
			}
			if v != nil && v.Fields["current_step"] == "" {
				t.Errorf("ValidateStep(%d) fields = %v, want current_step", tc.step, v.Fields)
			}
		})
	}
}

func TestValidateBootstrapOperations(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		ops  []string
		ok   bool
	}{
		{"Nil", nil, true},
		{"Empty", []string{}, true},
		{"All", []string{"inventory_sync", "policy_sync", "baseline_snapshot"}, true},
		{"Unknown", []string{"inventory_sync", "wipe_devices"}, false},
		{"Duplicate", []string{"policy_sync", "policy_sync"}, false},
		{"EmptyName", []string{""}, false},
		{"UpperCase", []string{"Inventory_sync"}, false},
		{"WithPrefix", []string{"bootstrap.inventory_sync"}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			v := ValidateBootstrapOperations(tc.ops)
			if got := v.Err() == nil; got != tc.ok {
				t.Errorf("ValidateBootstrapOperations(%q) = %v, want ok=%v", tc.ops, v.Err(), tc.ok)
			}
			if v != nil && v.Fields["bootstrap_operations"] == "" {
				t.Errorf("ValidateBootstrapOperations(%q) fields = %v, want bootstrap_operations", tc.ops, v.Fields)
			}
		})
	}
}
