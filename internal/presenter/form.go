package presenter

import (
	"maps"
	"slices"
	"strings"

	"github.com/tenantops/onboard/internal/onboarding"
	"github.com/tenantops/onboard/views"
)

// formFieldOf maps the service's validation field names to the wizard's form field names.
var formFieldOf = map[string]string{
	"provider_connection.client_id":     "client_id",
	"provider_connection.client_secret": "client_secret",
	"bootstrap_operations":              "operations",
	"current_step":                      "",
}

// FormErrors turns validation messages into the wizard's Errors: by form field, with
// fields the forms have no input for under "" (the whole form).
func FormErrors(ve *onboarding.ValidationError) map[string]string {
	out := map[string]string{}
	for _, k := range slices.Sorted(maps.Keys(ve.Fields)) {
		field, ok := formFieldOf[k]
		if !ok {
			field = k
		}
		msg := ve.Fields[k]
		if field == "" {
			msg = FieldLabel(k) + " " + msg
			if prev := out[""]; prev != "" {
				msg = prev + "; " + msg
			}
		}
		out[field] = msg
	}
	return out
}

// ErrorSummary is every validation message in one line, with its field in words.
func ErrorSummary(ve *onboarding.ValidationError) string {
	var parts []string
	for _, k := range slices.Sorted(maps.Keys(ve.Fields)) {
		parts = append(parts, FieldLabel(k)+" "+ve.Fields[k])
	}
	return strings.Join(parts, "; ")
}

var fieldLabels = map[string]string{
	"tenant_id":                         "Tenant ID",
	"display_name":                      "Display name",
	"primary_domain":                    "Primary domain",
	"current_step":                      "Step",
	"provider_connection.client_id":     "Client ID",
	"provider_connection.client_secret": "Client secret",
	"client_id":                         "Client ID",
	"client_secret":                     "Client secret",
	"bootstrap_operations":              "Operations",
	"operations":                        "Operations",
	"override_reason":                   "Override reason",
}

// FieldLabel is a validation field name (the API's or a form's) in words.
func FieldLabel(k string) string {
	if l, ok := fieldLabels[k]; ok {
		return l
	}
	return k
}

// OperationNames lists bootstrap operations as operators read them.
func OperationNames(ops []string) string {
	names := make([]string, 0, len(ops))
	for _, op := range ops {
		names = append(names, views.OperationName(op))
	}
	if len(names) == 0 {
		return "none"
	}
	return strings.Join(names, ", ")
}

// OperationList reads a comma-separated bootstrap selection as operators do.
func OperationList(s string) string {
	if s == "" {
		return OperationNames(nil)
	}
	return OperationNames(strings.Split(s, ","))
}
