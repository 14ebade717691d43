// Package views holds the templ components of every page and fragment. Components are pure
// functions of the view data they take.
package views

import (
	"context"
	"html"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/a-h/templ"
)

func itoa(n int) string { return strconv.Itoa(n) }

func i64(n int64) string { return strconv.FormatInt(n, 10) }

// stamp renders t for people as an absolute UTC time.
func stamp(t time.Time) string {
	if t.IsZero() {
		return "—"
	}
	return t.UTC().Format("2006-01-02 15:04 UTC")
}

func rfc3339(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(time.RFC3339)
}

// DraftURL is the wizard page of a draft: the one place its path is built (pages, redirects,
// links in lists, notifications and the audit log).
func DraftURL(ws, id string) string { return "/admin/workspaces/" + ws + "/onboarding/" + id }

func draftAction(ws, id, action string) templ.SafeURL {
	return templ.SafeURL(DraftURL(ws, id) + "/" + action)
}

// DraftHistoryURL is a draft's own entries in the workspace's audit log.
func DraftHistoryURL(ws, id string) string { return "/admin/workspaces/" + ws + "/audit?draft=" + id }

// RunURL is an operation run's page: the one place its path is built (pages, redirects, the
// audit log, notifications).
func RunURL(ws, id string) string { return "/admin/workspaces/" + ws + "/operations/" + id }

// percent is done/total as a whole percentage, clamped to 0..100.
func percent(done, total int) int {
	if total <= 0 || done <= 0 {
		return 0
	}
	return min(done*100/total, 100)
}

// pctClass is the progress bar's width class (static/css/app.css): no inline styles, the
// Content-Security-Policy forbids them.
func pctClass(p int) string { return "pct-" + strconv.Itoa(p) }

// span renders the time between two instants for people ("1 min 20 s"); "—" when either is
// unknown. Views never read the clock: fragments are pure functions of their data.
func span(from, to time.Time) string {
	if from.IsZero() || to.IsZero() || to.Before(from) {
		return "—"
	}
	d := to.Sub(from).Round(time.Second)
	switch {
	case d < time.Minute:
		return strconv.Itoa(int(d.Seconds())) + " s"
	case d < time.Hour:
		return strconv.Itoa(int(d.Minutes())) + " min " + strconv.Itoa(int(d.Seconds())%60) + " s"
	default:
		return strconv.Itoa(int(d.Hours())) + " h " + strconv.Itoa(int(d.Minutes())%60) + " min"
	}
}

// formValue is the operator's submitted value of field when the form is being re-shown
// (validation error, conflict re-apply), else the stored one.
func formValue(form map[string]string, field, stored string) string {
	if v, ok := form[field]; ok {
		return v
	}
	return stored
}

func orDash(s string) string {
	if s == "" {
		return "—"
	}
	return s
}

// wrapDots writes s with a line-break opportunity (<wbr>) after every dot, so that permission
// codes such as DeviceManagementConfiguration.ReadWrite.All wrap at their dots on a phone.
func wrapDots(s string) templ.Component {
	return templ.ComponentFunc(func(_ context.Context, w io.Writer) error {
		for i, part := range strings.SplitAfter(s, ".") {
			if i > 0 {
				if _, err := io.WriteString(w, "<wbr>"); err != nil {
					return err
				}
			}
			if _, err := io.WriteString(w, html.EscapeString(part)); err != nil {
				return err
			}
		}
		return nil
	})
}
