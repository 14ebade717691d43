// Package smtpmail sends plain-text email through an SMTP server (github.com/wneessen/go-mail),
// configured by one URL: smtp://user:pass@host:port (STARTTLS when the server offers it;
// ?tls=required insists on it, ?tls=none never tries) or smtps://… (TLS from the first byte).
// Credentials are only ever sent over TLS or to a loopback server.
package smtpmail

import (
	"context"
	"errors"
	"fmt"
	"net/mail"
	"net/url"
	"strconv"
	"time"

	gomail "github.com/wneessen/go-mail"
)

// Mailer sends each message on a connection of its own: invitations are rare, and a held
// connection would only time out between them.
type Mailer struct {
	host string
	from string
	opts []gomail.Option
}

// timeout bounds connecting and each SMTP command.
const timeout = 15 * time.Second

// New parses rawURL (SMTP_URL) and from (SMTP_FROM, an address with an optional name).
func New(rawURL, from string) (*Mailer, error) {
	u, err := url.Parse(rawURL)
	if err != nil {
		return nil, errors.New("not a URL") // the parse error repeats the URL, password included
	}
	if u.Hostname() == "" {
		return nil, errors.New("no host")
	}
	if _, err := mail.ParseAddress(from); err != nil {
		return nil, fmt.Errorf("from address %q: %w", from, err)
	}
	opts := []gomail.Option{gomail.WithTimeout(timeout)}
	port := 0
	if p := u.Port(); p != "" {
		if port, err = strconv.Atoi(p); err != nil || port < 1 || port > 65535 {
			return nil, fmt.Errorf("port %q", p)
		}
	}
	switch u.Scheme {
	case "smtp":
		if port == 0 {
			port = 587
		}
		switch u.Query().Get("tls") {
		case "", "opportunistic":
			opts = append(opts, gomail.WithTLSPolicy(gomail.TLSOpportunistic))
		case "required":
			opts = append(opts, gomail.WithTLSPolicy(gomail.TLSMandatory))
		case "none":
			opts = append(opts, gomail.WithTLSPolicy(gomail.NoTLS))
		default:
			return nil, fmt.Errorf("tls=%q: want opportunistic, required or none", u.Query().Get("tls"))
		}
	case "smtps":
		if port == 0 {
			port = 465
		}
		opts = append(opts, gomail.WithSSL())
	default:
		return nil, fmt.Errorf("scheme %q: want smtp or smtps", u.Scheme)
	}
	opts = append(opts, gomail.WithPort(port))
	if u.User != nil && u.User.Username() != "" {
		pw, _ := u.User.Password()
		// The strongest mechanism both sides know; PLAIN and LOGIN refuse to send the
		// password over a connection without TLS unless the server is on loopback.
		opts = append(opts, gomail.WithUsername(u.User.Username()), gomail.WithPassword(pw),
			gomail.WithOpportunisticSMTPAuth(gomail.SMTPAuthSCRAMSHA256, gomail.SMTPAuthSCRAMSHA1, gomail.SMTPAuthPlain, gomail.SMTPAuthLogin))
	}
	return &Mailer{host: u.Hostname(), from: from, opts: opts}, nil
}

// Send implements invitation.Mailer.
func (m *Mailer) Send(ctx context.Context, to, subject, body string) error {
	msg := gomail.NewMsg()
	if err := msg.From(m.from); err != nil {
		return fmt.Errorf("from: %w", err)
	}
	if err := msg.To(to); err != nil {
		return fmt.Errorf("to: %w", err)
	}
	msg.Subject(subject)
	msg.SetDate()
	msg.SetMessageID()
	msg.SetBodyString(gomail.TypeTextPlain, body)
	c, err := gomail.NewClient(m.host, m.opts...)
	if err != nil {
		return fmt.Errorf("smtp client: %w", err)
	}
	if err := c.DialAndSendWithContext(ctx, msg); err != nil {
		return fmt.Errorf("send mail: %w", err)
	}
	return nil
}
