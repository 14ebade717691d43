package provider

import (
	"fmt"
	"strings"

	"github.com/tenantops/onboard/internal/operation"
)

// The simulated provider's fixed data: the checks of a verification and the items of each
// bootstrap operation. Everything is derived from the scenario and non-secret connection
// fields only.

// requiredPermissions are the Microsoft Graph application permissions the console needs.
var requiredPermissions = []string{
	"DeviceManagementConfiguration.ReadWrite.All",
	"DeviceManagementManagedDevices.Read.All",
	"DeviceManagementApps.Read.All",
	"Directory.Read.All",
	"Policy.Read.All",
}

// missingPermissions are the ones a *.missing-perms.test tenant has not granted.
var missingPermissions = map[string]bool{
	"DeviceManagementConfiguration.ReadWrite.All": true,
	"Directory.Read.All":                          true,
}

// permissionDocURL deep-links to a permission in the Microsoft Graph permissions reference.
func permissionDocURL(p string) string {
	return "https://learn.microsoft.com/en-us/graph/permissions-reference#" + strings.ToLower(strings.ReplaceAll(p, ".", ""))
}

func verificationChecks(c Connection, s Scenario) []Check {
	domain := c.PrimaryDomain
	if domain == "" {
		domain = "the tenant"
	}
	checks := []Check{
		{Name: "tenant_reachable", Title: "Tenant reachable", Status: CheckPassed,
			Message: fmt.Sprintf("Microsoft Entra tenant for %s answered.", domain)},
		{Name: "credentials_valid", Title: "Client credentials valid", Status: CheckPassed,
			Message: "Acquired an app-only access token with the client credentials."},
		{Name: "admin_consent", Title: "Admin consent granted", Status: CheckPassed,
			Message: "An administrator consented to the application in this tenant."},
	}
	for _, p := range requiredPermissions {
		ch := Check{Name: "graph_permission." + p, Title: "Graph permission " + p, Permission: p,
			Status: CheckPassed, Message: "Granted."}
		if s == ScenarioMissingPerms && missingPermissions[p] {
			ch.Status = CheckFailed
			ch.Message = fmt.Sprintf("The application permission %s is not granted. Add it under API permissions of the app registration and grant admin consent.", p)
			ch.RemediationURL = permissionDocURL(p)
		}
		checks = append(checks, ch)
	}
	checks = append(checks,
		Check{Name: "intune_license", Title: "Intune license", Status: CheckPassed,
			Message: "Microsoft Intune Plan 1 is assigned in the tenant."},
		Check{Name: "conditional_access_read", Title: "Conditional access read", Status: CheckPassed,
			Message: "Conditional access policies can be read.", Permission: "Policy.Read.All"},
	)
	return checks
}

// failures lists, per operation, the items a *.partial.test tenant fails and why.
var failures = map[string]map[string]string{
	operation.OpInventorySync: {
		"LT-0007": "Device was deleted from Intune during the sync (HTTP 404).",
		"LT-0023": "Device record is incomplete: hardware inventory has not been reported yet.",
		"MB-0004": "Device was deleted from Intune during the sync (HTTP 404).",
	},
	operation.OpPolicySync: {
		"Android Enterprise - Work profile": "Android Enterprise is not bound to a managed Google Play account.",
		"Office - Attack surface reduction": "A settings catalog setting in this policy is not supported by the tenant's license.",
	},
	operation.OpBaselineSnapshot: {
		"Conditional access policies": "Microsoft Graph returned 403 Forbidden for identity/conditionalAccess/policies.",
	},
}

var policies = []string{
	"Windows 11 - Security baseline",
	"Windows - BitLocker encryption",
	"Windows - Defender Antivirus",
	"Windows - Firewall",
	"Windows - Windows Hello for Business",
	"Windows - Update ring (Pilot)",
	"Windows - Update ring (Broad)",
	"Windows - Compliance (Corporate)",
	"Windows - LAPS",
	"iOS - Compliance (Corporate)",
	"iOS - Device restrictions",
	"Android Enterprise - Work profile",
	"Android - Compliance",
	"macOS - FileVault",
	"macOS - Compliance",
	"Edge - Security settings",
	"Office - Attack surface reduction",
}

var baselineAreas = []string{
	"Compliance policies",
	"Configuration profiles",
	"Endpoint security policies",
	"App protection policies",
	"Conditional access policies",
	"Enrollment restrictions",
	"Role assignments",
	"Assignment filters",
	"Scope tags",
}

// bootstrapItems returns the items an operation handles in scenario s, or an error wrapping
// ErrUnknownOperation.
func bootstrapItems(op string, s Scenario) ([]Item, error) {
	var items []Item
	switch op {
	case operation.OpInventorySync:
		for i := 1; i <= 36; i++ {
			items = append(items, Item{Name: fmt.Sprintf("LT-%04d", i), Status: ItemSucceeded, Message: "Windows 11 Enterprise laptop inventoried."})
		}
		for i := 1; i <= 12; i++ {
			items = append(items, Item{Name: fmt.Sprintf("MB-%04d", i), Status: ItemSucceeded, Message: "iOS phone inventoried."})
		}
	case operation.OpPolicySync:
		for _, p := range policies {
			it := Item{Name: p, Status: ItemSucceeded, Message: "Imported."}
			if p == "macOS - FileVault" {
				it = Item{Name: p, Status: ItemSkipped, Message: "Skipped: no macOS devices are enrolled."}
			}
			items = append(items, it)
		}
	case operation.OpBaselineSnapshot:
		for i, a := range baselineAreas {
			items = append(items, Item{Name: a, Status: ItemSucceeded, Message: fmt.Sprintf("Captured %d objects.", 3+(i*7)%11)})
		}
	default:
		return nil, fmt.Errorf("simulated provider: %w: %q", ErrUnknownOperation, op)
	}
	if s == ScenarioPartial {
		for i, it := range items {
			if msg, ok := failures[op][it.Name]; ok {
				items[i] = Item{Name: it.Name, Status: ItemFailed, Message: msg}
			}
		}
	}
	return items, nil
}
