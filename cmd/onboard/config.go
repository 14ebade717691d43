package main

import (
	"flag"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"
)

// defaultDatabaseURL is used when neither -database-url nor DATABASE_URL is given.
const defaultDatabaseURL = "postgres://postgres@127.0.0.1:5432/onboard?sslmode=disable"

// flags wraps a FlagSet whose every flag also reads an environment variable; the variable
// supplies the default and the flag, when given, wins. -h lists both.
type flags struct {
	*flag.FlagSet
	getenv func(string) string
	errs   []error
	after  []func()
}

func newFlags(name, summary string, getenv func(string) string, stderr io.Writer) *flags {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprintf(stderr, "usage: onboard %s [flags]\n\n%s\n\nFlags (each also read from the environment variable in brackets):\n", name, summary)
		fs.PrintDefaults()
	}
	return &flags{FlagSet: fs, getenv: getenv}
}

func (f *flags) str(p *string, name, env, def, usage string) {
	if v := f.getenv(env); v != "" {
		def = v
	}
	f.StringVar(p, name, def, usage+" ["+env+"]")
}

// secret is like str, but -h never prints the value taken from the environment.
func (f *flags) secret(p *string, name, env, usage string) {
	f.StringVar(p, name, "", usage+" ["+env+"]")
	f.after = append(f.after, func() {
		if *p == "" {
			*p = f.getenv(env)
		}
	})
}

func (f *flags) boolean(p *bool, name, env string, def bool, usage string) {
	if v := f.getenv(env); v != "" {
		b, err := strconv.ParseBool(v)
		if err != nil {
			f.errs = append(f.errs, fmt.Errorf("%s=%q: want true or false", env, v))
		}
		def = b
	}
	f.BoolVar(p, name, def, usage+" ["+env+"]")
}

func (f *flags) integer(p *int, name, env string, def int, usage string) {
	if v := f.getenv(env); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil {
			f.errs = append(f.errs, fmt.Errorf("%s=%q: want an integer", env, v))
		}
		def = n
	}
	f.IntVar(p, name, def, usage+" ["+env+"]")
}

func (f *flags) duration(p *time.Duration, name, env string, def time.Duration, usage string) {
	if v := f.getenv(env); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil {
			f.errs = append(f.errs, fmt.Errorf("%s=%q: want a duration such as 5s", env, v))
		}
		def = d
	}
	f.DurationVar(p, name, def, usage+" ["+env+"]")
}

// parse parses args and reports the first bad environment value.
func (f *flags) parse(args []string) error {
	if err := f.Parse(args); err != nil {
		return err
	}
	for _, fn := range f.after {
		fn()
	}
	if len(f.errs) > 0 {
		return f.errs[0]
	}
	return nil
}

// dbConfig is shared by every subcommand that opens the database.
type dbConfig struct {
	URL      string
	MaxConns int
}

func (c *dbConfig) register(f *flags) {
	f.secret(&c.URL, "database-url", "DATABASE_URL", "PostgreSQL connection URL (default "+defaultDatabaseURL+")")
	f.after = append(f.after, func() {
		if c.URL == "" {
			c.URL = defaultDatabaseURL
		}
	})
	f.integer(&c.MaxConns, "db-max-conns", "DB_MAX_CONNS", 20, "maximum connections in the pool")
}

func redactURL(u string) string {
	if i := strings.Index(u, "@"); i > 0 {
		if j := strings.Index(u, "://"); j > 0 && j < i {
			return u[:j+3] + "…" + u[i:]
		}
	}
	return u
}
