// Package envflag parses the command line of onboard's subcommands: every flag also reads an
// environment variable, which supplies its default.
package envflag

import (
	"flag"
	"fmt"
	"io"
	"strconv"
	"time"
)

// DefaultDatabaseURL is used when neither -database-url nor DATABASE_URL is given.
const DefaultDatabaseURL = "postgres://postgres@127.0.0.1:5432/onboard?sslmode=disable"

// Set wraps a FlagSet whose every flag also reads an environment variable; the variable
// supplies the default and the flag, when given, wins. -h lists both.
type Set struct {
	*flag.FlagSet
	getenv func(string) string
	errs   []error
	after  []func()
}

// New returns the flag set of subcommand name; -h prints summary and every flag with its
// variable.
func New(name, summary string, getenv func(string) string, stderr io.Writer) *Set {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprintf(stderr, "usage: onboard %s [flags]\n\n%s\n\nFlags (each also read from the environment variable in brackets):\n", name, summary)
		fs.PrintDefaults()
	}
	return &Set{FlagSet: fs, getenv: getenv}
}

// Str adds a string flag.
func (f *Set) Str(p *string, name, env, def, usage string) {
	if v := f.getenv(env); v != "" {
		def = v
	}
	f.StringVar(p, name, def, usage+" ["+env+"]")
}

// Secret is like Str, but -h never prints the value taken from the environment.
func (f *Set) Secret(p *string, name, env, usage string) {
	f.StringVar(p, name, "", usage+" ["+env+"]")
	f.after = append(f.after, func() {
		if *p == "" {
			*p = f.getenv(env)
		}
	})
}

// Bool adds a boolean flag; a variable that is not a boolean is reported by Parse.
func (f *Set) Bool(p *bool, name, env string, def bool, usage string) {
	if v := f.getenv(env); v != "" {
		b, err := strconv.ParseBool(v)
		if err != nil {
			f.errs = append(f.errs, fmt.Errorf("%s=%q: want true or false", env, v))
		}
		def = b
	}
	f.BoolVar(p, name, def, usage+" ["+env+"]")
}

// Int adds an integer flag; a variable that is not an integer is reported by Parse.
func (f *Set) Int(p *int, name, env string, def int, usage string) {
	if v := f.getenv(env); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil {
			f.errs = append(f.errs, fmt.Errorf("%s=%q: want an integer", env, v))
		}
		def = n
	}
	f.IntVar(p, name, def, usage+" ["+env+"]")
}

// Duration adds a duration flag; a variable that is not a duration is reported by Parse.
func (f *Set) Duration(p *time.Duration, name, env string, def time.Duration, usage string) {
	if v := f.getenv(env); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil {
			f.errs = append(f.errs, fmt.Errorf("%s=%q: want a duration such as 5s", env, v))
		}
		def = d
	}
	f.DurationVar(p, name, def, usage+" ["+env+"]")
}

// Parse parses args and reports the first bad environment value.
func (f *Set) Parse(args []string) error {
	if err := f.FlagSet.Parse(args); err != nil {
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

// DB is the database flags, shared by every subcommand that opens the database.
type DB struct {
	URL      string
	MaxConns int
}

// Register adds -database-url and -db-max-conns to f.
func (c *DB) Register(f *Set) {
	f.Secret(&c.URL, "database-url", "DATABASE_URL", "PostgreSQL connection URL (default "+DefaultDatabaseURL+")")
	f.after = append(f.after, func() {
		if c.URL == "" {
			c.URL = DefaultDatabaseURL
		}
	})
	f.Int(&c.MaxConns, "db-max-conns", "DB_MAX_CONNS", 20, "maximum connections in the pool")
}
