package main

import (
	"bytes"
	"context"
	"errors"
	"io"
	"mime/quotedprintable"
	"net"
	"net/http"
	"net/mail"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"
	"github.com/jackc/pgx/v5"

	"github.com/tenantops/onboard/internal/postgres/pgtest"
)

// mailed is one message the test SMTP server accepted.
type mailed struct {
	From, To string
	Msg      *mail.Message
	Body     string // decoded
}

// startSMTP starts an SMTP server in the test process (emersion/go-smtp) that requires
// AUTH PLAIN as user/pass and hands every message it accepts to the returned channel. It
// stops at cleanup.
func startSMTP(t *testing.T, user, pass string) (addr string, inbox <-chan mailed) {
	t.Helper()
	ch := make(chan mailed, 16)
	srv := smtp.NewServer(smtp.BackendFunc(func(*smtp.Conn) (smtp.Session, error) {
		return &smtpSession{user: user, pass: pass, inbox: ch}, nil
	}))
	srv.Domain = "mail.test"
	srv.AllowInsecureAuth = true // loopback only: the client refuses plain text elsewhere
	srv.ReadTimeout, srv.WriteTimeout = 10*time.Second, 10*time.Second
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ln) }()
	t.Cleanup(func() {
		_ = srv.Close()
		if err := <-done; err != nil && !errors.Is(err, smtp.ErrServerClosed) && !errors.Is(err, net.ErrClosed) {
			t.Errorf("smtp server: %v", err)
		}
	})
	return ln.Addr().String(), ch
}

type smtpSession struct {
	user, pass string
	authed     bool
	from, to   string
	inbox      chan<- mailed
}

func (s *smtpSession) AuthMechanisms() []string { return []string{sasl.Plain} }

func (s *smtpSession) Auth(mech string) (sasl.Server, error) {
	return sasl.NewPlainServer(func(_, user, pass string) error {
		if user != s.user || pass != s.pass {
			return errors.New("invalid credentials")
		}
		s.authed = true
		return nil
	}), nil
}

func (s *smtpSession) Mail(from string, _ *smtp.MailOptions) error {
	if !s.authed {
		return smtp.ErrAuthRequired
	}
	s.from = from
	return nil
}

func (s *smtpSession) Rcpt(to string, _ *smtp.RcptOptions) error { s.to = to; return nil }

func (s *smtpSession) Data(r io.Reader) error {
	raw, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	msg, err := mail.ReadMessage(bytes.NewReader(raw))
	if err != nil {
		return err
	}
	var body io.Reader = msg.Body
	if strings.EqualFold(msg.Header.Get("Content-Transfer-Encoding"), "quoted-printable") {
		body = quotedprintable.NewReader(body)
	}
	text, err := io.ReadAll(body)
	if err != nil {
		return err
	}
	s.inbox <- mailed{From: s.from, To: s.to, Msg: msg, Body: string(text)}
	return nil
}

func (s *smtpSession) Reset()        { s.from, s.to = "", "" }
func (s *smtpSession) Logout() error { return nil }

// nextMail is the next message the server accepted, within waitFor.
func nextMail(t *testing.T, inbox <-chan mailed) mailed {
	t.Helper()
	select {
	case m := <-inbox:
		return m
	case <-time.After(waitFor):
		t.Fatal("no email arrived")
		return mailed{}
	}
}

var linkRE = regexp.MustCompile(`https?://\S+/admin/invitations/[A-Za-z0-9_-]{43}`)

// mailLink is the invitation link in a message, checked to start with base.
func mailLink(t *testing.T, m mailed, base string) string {
	t.Helper()
	link := linkRE.FindString(m.Body)
	if link == "" {
		t.Fatalf("no invitation link in the email:\n%s", m.Body)
	}
	if !strings.HasPrefix(link, base+"/") {
		t.Fatalf("link %s does not start with %s", link, base)
	}
	return link
}

// invite sends the invite form as c (an owner) and returns the status and page.
func invite(t *testing.T, c *http.Client, base, ws, email, role string) (int, string) {
	t.Helper()
	code, body, _ := postForm(t, c, base+"/admin/workspaces/"+ws+"/members/invitations", url.Values{"invite_email": {email}, "invite_role": {role}})
	return code, body
}

func dbInt(t *testing.T, conn *pgx.Conn, sql string, args ...any) int {
	t.Helper()
	var n int
	if err := conn.QueryRow(context.Background(), sql, args...).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// openStatus opens path and checks the answer's status.
func (p *page) openStatus(path string, status int64) {
	p.t.Helper()
	resp, err := chromedp.RunResponse(p.bounded(), chromedp.Navigate(p.base+path))
	if err != nil {
		p.fail("open %s: %v", path, err)
	}
	if resp.Status != status {
		p.fail("open %s: status %d, want %d", path, resp.Status, status)
	}
}

// accept sends the invitation's form with a password, as someone not signed in.
func accept(t *testing.T, link, pw string) (int, string) {
	t.Helper()
	code, body, _ := postForm(t, &http.Client{CheckRedirect: noRedirect}, link, url.Values{"new_password": {pw}, "confirm_password": {pw}})
	return code, body
}

// TestInvitations: an owner invites an email with no account through the members page; the
// invitation goes out through a real SMTP server (in this process) whose message holds a
// one-time link; the invitee follows it in Chromium, sets a password and lands signed in, a
// member with the role chosen. The link then works no more; expired and revoked links show
// why and change nothing; operators and viewers may not invite or revoke (403), other
// workspaces' owners do not see them (404).
func TestInvitations(t *testing.T) {
	t.Parallel()
	addr, inbox := startSMTP(t, "mailer", "mail-secret-1")
	base, conn := startAppOnDB(t, map[string]string{"SMTP_URL": "smtp://mailer:mail-secret-1@" + addr, "SMTP_FROM": "Acme onboarding <noreply@acme.test>"})
	browser := newBrowser(t)
	// Not parallel: they share the one inbox.

	t.Run("EmailLinkJoins", func(t *testing.T) {
		o := newSession(t, browser, base, "owner@acme.test")
		o.open("/admin/workspaces/acme/members")
		o.typeInto("#invite_email", "New.Person@Example.test")
		o.js(`(() => { document.querySelector('#invite_role').value = 'viewer'; return true; })()`)
		o.submit(`[data-testid=invite-submit]`, 200)
		o.visible(`[data-testid=invite-sent][data-mailed]`)
		o.text(`[data-testid=invite-sent]`, "new.person@example.test got an email")
		o.js(`!document.querySelector('[data-testid=invite-link]')`)
		o.js(`document.querySelector('[data-testid=invitation-row][data-email="new.person@example.test"]').dataset.role === 'viewer'`)
		o.shot("invite-sent")

		m := nextMail(t, inbox)
		if m.To != "new.person@example.test" || m.From != "noreply@acme.test" {
			t.Errorf("envelope %s → %s, want noreply@acme.test → new.person@example.test", m.From, m.To)
		}
		if subj := m.Msg.Header.Get("Subject"); !strings.Contains(subj, "invited") {
			t.Errorf("subject %q", subj)
		}
		link := mailLink(t, m, base)
		if n := dbInt(t, conn, `SELECT count(*) FROM workspace_invitations WHERE token_hash = sha256(convert_to($1, 'UTF8'))`, link[strings.LastIndex(link, "/")+1:]); n != 1 {
			t.Fatalf("%d invitations stored under the token's SHA-256, want 1", n)
		}
		if n := dbInt(t, conn, `SELECT count(*) FROM workspace_invitations WHERE position(convert_to($1, 'UTF8') in token_hash) > 0`, link[strings.LastIndex(link, "/")+1:]); n != 0 {
			t.Fatal("the raw token is stored")
		}

		// The invitee, in a browser of their own, not signed in.
		p := newSession(t, browser, base, "")
		p.open(strings.TrimPrefix(link, base))
		p.text(`[data-testid=invitation-summary]`, "owner@acme.test invited new.person@example.test to")
		p.shot("invitation-accept")
		// The same rules as a password change: too short is refused, the invitation stands.
		p.typeInto("#new_password", "short")
		p.typeInto("#confirm_password", "short")
		p.submit(`[data-testid=invitation-accept]`, 422)
		p.text(`[data-testid=error-new_password]`, "at least 12 characters")
		p.typeInto("#name", "New Person")
		p.typeInto("#new_password", "joined-password-1")
		p.typeInto("#confirm_password", "joined-password-1")
		p.submit(`[data-testid=invitation-accept]`, 200)
		p.toast("you joined as viewer")
		p.text(`[data-testid=user-email]`, "new.person@example.test")
		p.js(`location.pathname === '/admin/workspaces/acme/onboarding'`)

		// The role chosen: a viewer may not see members.
		if n := dbInt(t, conn, `SELECT count(*) FROM workspace_memberships m JOIN users u ON u.id = m.user_id
			JOIN workspaces w ON w.id = m.workspace_id WHERE u.email = 'new.person@example.test' AND w.slug = 'acme' AND m.role = 'viewer'`); n != 1 {
			t.Fatalf("memberships as viewer: %d, want 1", n)
		}
		if !eval[bool](p, `fetch('/admin/workspaces/acme/members').then(r => r.status === 403)`) {
			t.Error("the new viewer may open the members page")
		}
		// The password set works for signing in.
		resp, err := http.Post(base+"/api/v1/session", "application/json", strings.NewReader(`{"email":"new.person@example.test","password":"joined-password-1"}`))
		if err != nil || resp.StatusCode != http.StatusNoContent {
			t.Fatalf("sign in with the password set: %v %v", resp, err)
		}
		resp.Body.Close()

		// Single use: the link now says so and changes nothing.
		q := newSession(t, browser, base, "")
		resp2, err := http.Get(link)
		if err != nil || resp2.StatusCode != http.StatusGone {
			t.Fatalf("used link: %v %v, want 410", resp2, err)
		}
		resp2.Body.Close()
		q.openStatus(strings.TrimPrefix(link, base), http.StatusGone)
		q.js(`document.querySelector('[data-testid=invitation-page]').dataset.state === 'accepted'`)
		q.text(`[data-testid=invitation-error]`, "used already")
		if code, _ := accept(t, link, "another-password-2"); code != http.StatusGone {
			t.Errorf("accepting a used link: %d, want 410", code)
		}
		// The owner's list: the invitation is gone, the member is there; all audited.
		o.open("/admin/workspaces/acme/members")
		o.js(`!document.querySelector('[data-testid=invitation-row][data-email="new.person@example.test"]') &&
			document.querySelector('[data-testid=member-row][data-email="new.person@example.test"]').dataset.role === 'viewer'`)
		// Revoking it now is refused, saying why.
		var id string
		if err := conn.QueryRow(context.Background(), `SELECT id::text FROM workspace_invitations WHERE email = 'new.person@example.test'`).Scan(&id); err != nil {
			t.Fatal(err)
		}
		if code, body, _ := postForm(t, client(t, base, "owner@acme.test"), base+"/admin/workspaces/acme/members/invitations/"+id+"/revoke", nil); code != 409 ||
			!strings.Contains(body, "accepted already") {
			t.Errorf("revoking an accepted invitation: %d, want 409 saying it was accepted", code)
		}
		for _, action := range []string{"workspace.invitation.created", "workspace.invitation.accepted"} {
			if n := dbInt(t, conn, `SELECT count(*) FROM workspace_audit_log WHERE action = $1 AND metadata->>'email' = 'new.person@example.test'`, action); n != 1 {
				t.Errorf("%d audit entries %s, want 1", n, action)
			}
		}
	})

	t.Run("Expired", func(t *testing.T) {
		owner := client(t, base, "owner@acme.test")
		if code, body := invite(t, owner, base, "acme", "late@example.test", "operator"); code != 200 || !strings.Contains(body, `data-testid="invite-sent"`) {
			t.Fatalf("invite: %d", code)
		}
		link := mailLink(t, nextMail(t, inbox), base)
		if _, err := conn.Exec(context.Background(), `UPDATE workspace_invitations SET created_at = now() - interval '8 days', expires_at = now() - interval '1 day' WHERE email = 'late@example.test'`); err != nil {
			t.Fatal(err)
		}
		code, body, _ := get(t, http.DefaultClient, link, "text/html")
		if code != http.StatusGone || !strings.Contains(body, `data-state="expired"`) || !strings.Contains(body, "expired on") {
			t.Fatalf("expired link: %d, want 410 saying it expired", code)
		}
		if code, _ := accept(t, link, "late-password-1"); code != http.StatusGone {
			t.Errorf("accepting an expired link: %d, want 410", code)
		}
		if n := dbInt(t, conn, `SELECT count(*) FROM users WHERE email = 'late@example.test'`); n != 0 {
			t.Error("an expired invitation created an account")
		}
		// Listed as expired, revocable; a new invitation of the same email may go out.
		_, page, _ := get(t, owner, base+"/admin/workspaces/acme/members", "text/html")
		if !strings.Contains(page, `data-testid="invitation-expired"`) {
			t.Error("the expired invitation is not marked expired on the members page")
		}
		if code, _ := invite(t, owner, base, "acme", "late@example.test", "operator"); code != 200 {
			t.Errorf("inviting again after expiry: %d, want 200", code)
		}
		nextMail(t, inbox)
	})

	t.Run("ConcurrentAccepts", func(t *testing.T) {
		owner := client(t, base, "owner@acme.test")
		if code, _ := invite(t, owner, base, "acme", "twice@example.test", "operator"); code != 200 {
			t.Fatalf("invite: %d", code)
		}
		link := mailLink(t, nextMail(t, inbox), base)
		// Someone signed in in this browser is told that joining switches the account.
		if _, page, _ := get(t, owner, link, "text/html"); !strings.Contains(page, `data-testid="invitation-signed-in"`) {
			t.Error("the page does not say that joining signs the owner out")
		}
		const n = 4
		codes := make(chan int, n)
		for range n {
			go func() {
				code, _, _ := postForm(t, &http.Client{CheckRedirect: noRedirect}, link, url.Values{"new_password": {"twice-password-1"}, "confirm_password": {"twice-password-1"}})
				codes <- code
			}()
		}
		got := map[int]int{}
		for range n {
			got[<-codes]++
		}
		if got[http.StatusSeeOther] != 1 || got[http.StatusGone] != n-1 {
			t.Errorf("%d accepts at once: %v, want one 303 and %d 410", n, got, n-1)
		}
		if c := dbInt(t, conn, `SELECT count(*) FROM users WHERE email = 'twice@example.test'`); c != 1 {
			t.Errorf("%d accounts, want 1", c)
		}
	})

	t.Run("Revoked", func(t *testing.T) {
		o := newSession(t, browser, base, "owner@acme.test")
		o.open("/admin/workspaces/acme/members")
		o.typeInto("#invite_email", "revoke.me@example.test")
		o.submit(`[data-testid=invite-submit]`, 200)
		link := mailLink(t, nextMail(t, inbox), base)
		// A second invitation of the same email while the first is pending is refused.
		o.typeInto("#invite_email", "revoke.me@example.test")
		o.submit(`[data-testid=invite-submit]`, 422)
		o.text(`[data-testid=error-invite_email]`, "already invited")
		o.click(`[data-testid=invitation-row][data-email="revoke.me@example.test"] [data-testid=invitation-revoke]`)
		o.text(`dialog.confirm-dialog .dialog-title`, "Revoke the invitation of revoke.me@example.test?")
		o.shot("invite-revoke-dialog")
		o.submit(`dialog.confirm-dialog button[value=ok]`, 200)
		o.toast("Invitation of revoke.me@example.test revoked")
		o.js(`!document.querySelector('[data-testid=invitation-row][data-email="revoke.me@example.test"]')`)

		p := newSession(t, browser, base, "")
		p.openStatus(strings.TrimPrefix(link, base), http.StatusGone)
		p.js(`document.querySelector('[data-testid=invitation-page]').dataset.state === 'revoked'`)
		p.text(`[data-testid=invitation-error]`, "revoked")
		p.shot("invitation-revoked")
		if code, _ := accept(t, link, "revoked-password-1"); code != http.StatusGone {
			t.Errorf("accepting a revoked link: %d, want 410", code)
		}
		if n := dbInt(t, conn, `SELECT count(*) FROM users WHERE email = 'revoke.me@example.test'`); n != 0 {
			t.Error("a revoked invitation created an account")
		}
		if n := dbInt(t, conn, `SELECT count(*) FROM workspace_audit_log WHERE action = 'workspace.invitation.revoked' AND metadata->>'email' = 'revoke.me@example.test'`); n != 1 {
			t.Errorf("%d revoke audit entries, want 1", n)
		}
	})

	t.Run("Refusals", func(t *testing.T) {
		owner := client(t, base, "owner@acme.test")
		// An email with an account: the add-member path, said so.
		code, body := invite(t, owner, base, "acme", "owner@globex.test", "viewer")
		if code != 422 || !strings.Contains(body, "already has an account") {
			t.Errorf("inviting an existing account: %d, want 422 pointing to Add a member", code)
		}
		code, body = invite(t, owner, base, "acme", "viewer@acme.test", "viewer")
		if code != 422 || !strings.Contains(body, "is already a member") {
			t.Errorf("inviting a member: %d, want 422", code)
		}
		if code, _ := invite(t, owner, base, "acme", "not an email", "viewer"); code != 422 {
			t.Errorf("inviting a bad address: %d, want 422", code)
		}
		if code, _ := invite(t, owner, base, "acme", "x@example.test", "admin"); code != 422 {
			t.Errorf("inviting with a bad role: %d, want 422", code)
		}
		for _, token := range []string{"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", "short", "%00"} {
			if code, _, _ := get(t, http.DefaultClient, base+"/admin/invitations/"+token, "text/html"); code != 404 {
				t.Errorf("token %q: %d, want 404", token, code)
			}
		}
		// An account made for the email after the invitation: the link says so, creates nothing.
		if code, _ := invite(t, owner, base, "acme", "meanwhile@example.test", "viewer"); code != 200 {
			t.Fatalf("invite: %d", code)
		}
		link := mailLink(t, nextMail(t, inbox), base)
		if _, err := conn.Exec(context.Background(), `INSERT INTO users (email, password_hash) SELECT 'meanwhile@example.test', password_hash FROM users WHERE email = 'viewer@acme.test'`); err != nil {
			t.Fatal(err)
		}
		if code, body := accept(t, link, "meanwhile-password-1"); code != 422 || !strings.Contains(body, "exists already") {
			t.Errorf("accepting for an email that has an account now: %d, want 422 saying so", code)
		}
		if n := dbInt(t, conn, `SELECT count(*) FROM workspace_memberships m JOIN users u ON u.id = m.user_id WHERE u.email = 'meanwhile@example.test'`); n != 0 {
			t.Error("the existing account was made a member through the link")
		}
		if n := dbInt(t, conn, `SELECT count(*) FROM workspace_invitations WHERE email IN ('owner@globex.test', 'viewer@acme.test', 'x@example.test')`); n != 0 {
			t.Errorf("%d refused invitations stored", n)
		}
	})

	t.Run("Authorization", func(t *testing.T) {
		owner := client(t, base, "owner@acme.test")
		if code, _ := invite(t, owner, base, "acme", "authz@example.test", "operator"); code != 200 {
			t.Fatalf("invite: %d", code)
		}
		nextMail(t, inbox)
		var id string
		if err := conn.QueryRow(context.Background(), `SELECT id::text FROM workspace_invitations WHERE email = 'authz@example.test'`).Scan(&id); err != nil {
			t.Fatal(err)
		}
		revoke := base + "/admin/workspaces/acme/members/invitations/" + id + "/revoke"
		for who, want := range map[string]int{"viewer@acme.test": 403, "operator@acme.test": 403, "owner@globex.test": 404} {
			c := client(t, base, who)
			if code, _ := invite(t, c, base, "acme", "someone@example.test", "viewer"); code != want {
				t.Errorf("invite as %s: %d, want %d", who, code, want)
			}
			if code, _, _ := postForm(t, c, revoke, nil); code != want {
				t.Errorf("revoke as %s: %d, want %d", who, code, want)
			}
		}
		// globex's owner revoking acme's invitation under globex: not found.
		if code, _, _ := postForm(t, client(t, base, "owner@globex.test"), base+"/admin/workspaces/globex/members/invitations/"+id+"/revoke", nil); code != 404 {
			t.Errorf("revoke of another workspace's invitation: %d, want 404", code)
		}
		if code, _ := invite(t, &http.Client{CheckRedirect: noRedirect}, base, "acme", "anon@example.test", "viewer"); code != 401 {
			t.Errorf("invite signed out: %d, want 401", code)
		}
		if n := dbInt(t, conn, `SELECT count(*) FROM workspace_invitations WHERE email IN ('someone@example.test', 'anon@example.test') OR (email = 'authz@example.test' AND revoked_at IS NOT NULL)`); n != 0 {
			t.Errorf("refused requests changed %d invitations", n)
		}
	})
}

// TestInvitationWithoutMail: with no SMTP_URL the owner is shown the link once, right after
// inviting; it is not on the page again, nor in the database or the log (at debug level);
// the link works like a mailed one.
func TestInvitationWithoutMail(t *testing.T) {
	t.Parallel()
	dbURL := pgtest.NewURL(t)
	base, _, log := startAppLog(t, map[string]string{"DATABASE_URL": dbURL, "LOG_LEVEL": "debug"})
	browser := newBrowser(t)
	o := newSession(t, browser, base, "owner@acme.test")
	o.open("/admin/workspaces/acme/members")
	o.js(`document.querySelector('[data-testid=invitations]').innerText.includes('no mail server is configured')`)
	o.typeInto("#invite_email", "copy.link@example.test")
	o.js(`(() => { document.querySelector('#invite_role').value = 'owner'; return true; })()`)
	o.submit(`[data-testid=invite-submit]`, 200)
	o.visible(`[data-testid=invite-link]`)
	link := eval[string](o, `document.querySelector('[data-testid=invite-link]').value`)
	if !linkRE.MatchString(link) || !strings.HasPrefix(link, base+"/admin/invitations/") {
		t.Fatalf("link shown: %q", link)
	}
	o.shot("invite-link")
	token := link[strings.LastIndex(link, "/")+1:]
	o.open("/admin/workspaces/acme/members")
	o.js(`!document.querySelector('[data-testid=invite-link]')`)
	if strings.Contains(o.html(), token) {
		t.Fatal("the link is on the members page again")
	}
	conn, err := pgx.Connect(context.Background(), dbURL)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	if n := dbInt(t, conn, `SELECT (SELECT count(*) FROM workspace_invitations WHERE position(convert_to($1, 'UTF8') in token_hash) > 0)
		+ (SELECT count(*) FROM sessions WHERE position(convert_to($1, 'UTF8') in data) > 0)
		+ (SELECT count(*) FROM workspace_audit_log WHERE metadata::text LIKE '%' || $1 || '%')`, token); n != 0 {
		t.Fatal("the token is stored")
	}

	p := newSession(t, browser, base, "")
	p.open(strings.TrimPrefix(link, base))
	p.typeInto("#new_password", "copied-password-1")
	p.typeInto("#confirm_password", "copied-password-1")
	p.submit(`[data-testid=invitation-accept]`, 200)
	p.toast("you joined as owner")
	p.text(`[data-testid=user-email]`, "copy.link@example.test")
	// An owner now: the members page opens.
	p.open("/admin/workspaces/acme/members")
	if strings.Contains(log.String(), token) {
		t.Fatal("the token is in the server log")
	}
	if !strings.Contains(log.String(), "invitation accepted") {
		t.Fatal("the debug log has no invitation lines: the check above proves nothing")
	}
}

// TestInvitationMailFails: when the mail server refuses (here: wrong credentials), the
// invitation stands and the owner is shown its link instead, with the failure said; the log
// names the failure, never the token.
func TestInvitationMailFails(t *testing.T) {
	t.Parallel()
	addr, inbox := startSMTP(t, "mailer", "mail-secret-1")
	base, _, log := startAppLog(t, map[string]string{"SMTP_URL": "smtp://mailer:wrong-secret@" + addr, "LOG_LEVEL": "debug"})
	code, body := invite(t, client(t, base, "owner@acme.test"), base, "acme", "unlucky@example.test", "operator")
	if code != 200 || !strings.Contains(body, `data-testid="invite-mail-failed"`) {
		t.Fatalf("invite with a refusing mail server: %d, want 200 saying the email failed", code)
	}
	link := linkRE.FindString(body)
	if link == "" {
		t.Fatal("the link is not shown after the email failed")
	}
	select {
	case m := <-inbox:
		t.Fatalf("a message was accepted: %+v", m)
	default:
	}
	if code, _, _ := get(t, http.DefaultClient, link, "text/html"); code != 200 {
		t.Errorf("the link of the unsent invitation: %d, want 200", code)
	}
	if l := log.String(); !strings.Contains(l, "invitation email not sent") || strings.Contains(l, link[strings.LastIndex(link, "/")+1:]) ||
		strings.Contains(l, "wrong-secret") {
		t.Errorf("log: want the failure without the token or the mail password:\n%s", l[max(0, len(l)-2000):])
	}
}
