package web

import (
	"mime"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/tenantops/onboard/internal/presenter"
	"github.com/tenantops/onboard/views"
)

// retryFields are the fields of our forms a person types or chooses, in the order the failed-
// save page shows them, with how to show them. Any other field is re-sent unseen (the
// version, base_* values, step), except one that looks like a secret, which is asked again.
var retryFields = []struct{ name, label, kind string }{
	{"tenant_id", "Tenant ID", views.RetryText},
	{"display_name", "Display name", views.RetryText},
	{"primary_domain", "Primary domain", views.RetryText},
	{"client_id", "Client ID", views.RetryText},
	{"client_secret", "Client secret", views.RetrySecret},
	{"operations", "Operations", views.RetryList},
	{"override_reason", "Reason for the override", views.RetryTextarea},
	{"email", "Email", views.RetryText},
	{"role", "Role", views.RetryList}, // chosen from a list: shown, not retyped
	{"password", "Password", views.RetrySecret},
	{"current_password", "Current password", views.RetrySecret},
	{"new_password", "New password", views.RetrySecret},
	{"confirm_password", "Repeat the new password", views.RetrySecret},
}

// isSecretField reports whether a form field holds something never to be shown back.
func isSecretField(name string) bool {
	n := strings.ToLower(name)
	return strings.Contains(n, "password") || strings.Contains(n, "secret") || strings.Contains(n, "token")
}

// sessionSaveKey marks a request whose handler ran but whose session could not be saved
// afterwards (Server.sessionError): its write may well have succeeded.
const sessionSaveKey ctxKey = -2

// sessionSaveFailed reports whether r failed only in saving its session, after its handler:
// "nothing was saved" would not be true, so it gets the plain error page.
func sessionSaveFailed(r *http.Request) bool {
	v, _ := r.Context().Value(sessionSaveKey).(bool)
	return v
}

// isBrowserForm reports whether r is a form a browser submitted: a POST of form data that
// wants a page back.
func isBrowserForm(r *http.Request) bool {
	if r.Method != http.MethodPost || isAPI(r) || !acceptsHTML(r) {
		return false
	}
	mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	return mt == "application/x-www-form-urlencoded" || mt == "multipart/form-data"
}

// saveFailed answers a browser form that could not be saved because the database was not
// reachable: the form again, as submitted (secrets blank), with "Try again" posting it to
// the same action. The database may be down for the whole request, session and sign-in
// included, so this page reads nothing from it. It reports false when the form cannot be
// read, and the caller shows the plain error page.
func (s *Server) saveFailed(w http.ResponseWriter, r *http.Request) bool {
	if r.PostForm == nil {
		r.Body = http.MaxBytesReader(w, r.Body, maxFormBody)
		if err := r.ParseForm(); err != nil {
			return false
		}
	}
	back, backText := failedSaveBack(r)
	d := views.SaveFailedData{Action: r.URL.EscapedPath(), What: formWhat(r.URL.Path), Fields: retryFieldsOf(r.PostForm), Back: back, BackText: backText}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(http.StatusServiceUnavailable)
	_ = views.SaveFailedPage(s.navFor(r), d).Render(r.Context(), w)
	return true
}

// retryFieldsOf sorts a submitted form into what the failed-save page shows and re-sends.
func retryFieldsOf(form url.Values) []views.RetryField {
	var out []views.RetryField
	seen := map[string]bool{}
	for _, k := range retryFields {
		vs, ok := form[k.name]
		if !ok {
			continue
		}
		seen[k.name] = true
		f := views.RetryField{Name: k.name, Label: k.label, Kind: k.kind, Values: slices.Clone(vs)}
		switch {
		case k.kind == views.RetrySecret:
			f.Required = slices.ContainsFunc(vs, func(v string) bool { return v != "" })
			f.Values = nil
		case k.name == "operations":
			for _, v := range vs {
				f.Shown = append(f.Shown, views.OperationName(v))
			}
			if len(vs) == 0 || len(vs) == 1 && vs[0] == "" {
				f.Kind = views.RetryHidden
			}
		}
		out = append(out, f)
	}
	rest := make([]string, 0, len(form))
	for k := range form {
		if !seen[k] {
			rest = append(rest, k)
		}
	}
	slices.Sort(rest)
	for _, k := range rest {
		if isSecretField(k) {
			out = append(out, views.RetryField{Name: k, Label: presenter.FieldLabel(k), Kind: views.RetrySecret,
				Required: slices.ContainsFunc(form[k], func(v string) bool { return v != "" })})
			continue
		}
		out = append(out, views.RetryField{Name: k, Kind: views.RetryHidden, Values: slices.Clone(form[k])})
	}
	return out
}

// failedSaveBack is the way back without saving: a wizard form's step of the draft, else the
// same-origin page the form was on, else the workspaces.
func failedSaveBack(r *http.Request) (href, text string) {
	parts := strings.Split(strings.Trim(r.URL.Path, "/"), "/")
	// admin/workspaces/{ws}/onboarding/{id}/{action}
	if len(parts) == 6 && parts[0] == "admin" && parts[1] == "workspaces" && parts[3] == "onboarding" {
		if step, ok := wizardFormSteps[parts[5]]; ok {
			href = views.DraftURL(url.PathEscape(parts[2]), url.PathEscape(parts[4]))
			if step > 0 {
				href += "?step=" + strconv.Itoa(step)
			}
			return href, "Back to the draft"
		}
	}
	if ref, err := url.Parse(r.Referer()); err == nil && ref.Host == r.Host && ref.Path != "" &&
		strings.HasPrefix(ref.Path, "/") && !strings.HasPrefix(ref.Path, "//") {
		return ref.RequestURI(), "Back to the page"
	}
	return "/admin", "Back to your workspaces"
}

// formWhats names what each form does, by the end of its action path.
var formWhats = []struct{ suffix, what string }{
	{"/identify", "Save the tenant details"},
	{"/connection", "Attach the connection"},
	{"/verification", "Start verification"},
	{"/bootstrap", "Start bootstrap"},
	{"/activation", "Activate the tenant"},
	{"/cancel", "Cancel onboarding"},
	{"/onboarding", "Start onboarding"},
	{"/retry", "Retry the run"},
	{"/members", "Add a member"},
	{"/role", "Change a member's role"},
	{"/remove", "Remove a member"},
	{"/profile/password", "Change your password"},
	{"/end", "Sign out sessions"},
	{"/read", "Mark notifications read"},
	{"/admin/login", "Sign in"},
}

// formWhat is what the form sent to path does, in words; "" for a form not listed.
func formWhat(path string) string {
	for _, f := range formWhats {
		if strings.HasSuffix(path, f.suffix) {
			return f.what
		}
	}
	return ""
}
