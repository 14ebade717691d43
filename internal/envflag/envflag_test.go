package envflag

import (
	"bytes"
	"strings"
	"testing"
	"time"
)

// TestSet: the variable supplies the default, the flag wins, a bad variable is an error, and
// -h never prints a secret taken from the environment.
func TestSet(t *testing.T) {
	t.Parallel()
	env := map[string]string{"NAME": "from-env", "N": "7", "WAIT": "2s", "DATABASE_URL": "postgres://u:pw@h/db"}
	newSet := func(stderr *bytes.Buffer) (*Set, *string, *int, *time.Duration, *DB) {
		f := New("test", "A test.", func(k string) string { return env[k] }, stderr)
		var name string
		var n int
		var wait time.Duration
		var db DB
		f.Str(&name, "name", "NAME", "default", "a name")
		f.Int(&n, "n", "N", 1, "a number")
		f.Duration(&wait, "wait", "WAIT", time.Second, "a wait")
		db.Register(f)
		return f, &name, &n, &wait, &db
	}
	t.Run("OK", func(t *testing.T) {
		f, name, n, wait, db := newSet(&bytes.Buffer{})
		if err := f.Parse([]string{"-n", "9"}); err != nil {
			t.Fatal(err)
		}
		if *name != "from-env" || *n != 9 || *wait != 2*time.Second || db.URL != env["DATABASE_URL"] || db.MaxConns != 20 {
			t.Errorf("got %q %d %v %q %d, want from-env 9 2s the env URL 20", *name, *n, *wait, db.URL, db.MaxConns)
		}
	})
	t.Run("BadEnv", func(t *testing.T) {
		env := map[string]string{"N": "x"}
		f := New("test", "A test.", func(k string) string { return env[k] }, &bytes.Buffer{})
		var n int
		f.Int(&n, "n", "N", 1, "a number")
		if err := f.Parse(nil); err == nil || !strings.Contains(err.Error(), "N=") {
			t.Errorf("Parse = %v, want an error naming N", err)
		}
	})
	t.Run("HelpHidesSecret", func(t *testing.T) {
		var stderr bytes.Buffer
		f, _, _, _, _ := newSet(&stderr)
		if err := f.Parse([]string{"-h"}); err == nil {
			t.Fatal("Parse(-h) = nil, want flag.ErrHelp")
		}
		if strings.Contains(stderr.String(), "pw@") || !strings.Contains(stderr.String(), DefaultDatabaseURL) {
			t.Errorf("-h printed %q: want the default URL, never the secret", stderr.String())
		}
	})
}
