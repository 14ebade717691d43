// Package pgtest gives each test its own PostgreSQL database, cloned from a migrated template.
// It reads DATABASE_URL (default: the local server on 127.0.0.1:5432 as postgres).
package pgtest

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/tenantops/onboard/internal/postgres"
	"github.com/tenantops/onboard/migrations"
)

// DefaultURL is used when DATABASE_URL is not set.
const DefaultURL = "postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable"

// BaseURL returns the server URL tests connect to.
func BaseURL() string {
	if u := os.Getenv("DATABASE_URL"); u != "" {
		return u
	}
	return DefaultURL
}

func withDatabase(base, name string) string {
	u, err := url.Parse(base)
	if err != nil {
		panic(fmt.Sprintf("pgtest: bad DATABASE_URL: %v", err))
	}
	u.Path = "/" + name
	return u.String()
}

// templateName changes whenever a migration (ours or River's schema version) changes, so a stale template is never used.
func templateName() string {
	h := sha256.New()
	_ = fs.WalkDir(migrations.FS, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, _ := fs.ReadFile(migrations.FS, p)
		h.Write([]byte(p))
		h.Write(b)
		return nil
	})
	h.Write([]byte(postgres.RiverSchemaVersion()))
	return "onboard_tmpl_" + hex.EncodeToString(h.Sum(nil))[:12]
}

// ensureTemplate creates the migrated template database once; an advisory lock serialises
// test processes of different packages that start at the same time.
func ensureTemplate(ctx context.Context, admin *pgx.Conn, base string) (string, error) {
	name := templateName()
	if _, err := admin.Exec(ctx, `SELECT pg_advisory_lock(hashtext('onboard_pgtest_template'))`); err != nil {
		return "", err
	}
	defer admin.Exec(context.Background(), `SELECT pg_advisory_unlock(hashtext('onboard_pgtest_template'))`)
	var exists bool
	if err := admin.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1)`, name).Scan(&exists); err != nil {
		return "", err
	}
	if exists {
		return name, nil
	}
	building := name + "_building"
	if _, err := admin.Exec(ctx, `DROP DATABASE IF EXISTS `+building+` WITH (FORCE)`); err != nil {
		return "", err
	}
	if _, err := admin.Exec(ctx, `CREATE DATABASE `+building); err != nil {
		return "", err
	}
	db, err := postgres.Open(ctx, withDatabase(base, building), "pgtest", 2)
	if err != nil {
		return "", err
	}
	err = db.MigrateUp(ctx)
	db.Close()
	if err != nil {
		return "", err
	}
	if _, err := admin.Exec(ctx, `ALTER DATABASE `+building+` RENAME TO `+name); err != nil {
		return "", err
	}
	return name, nil
}

// NewURL creates an empty, fully migrated database for this test and returns its URL. The
// database is dropped when the test ends.
func NewURL(t testing.TB) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	base := BaseURL()
	admin, err := pgx.Connect(ctx, base)
	if err != nil {
		t.Fatalf("pgtest: connect to %s: %v (is PostgreSQL running? set DATABASE_URL)", base, err)
	}
	defer admin.Close(context.Background())
	tmpl, err := ensureTemplate(ctx, admin, base)
	if err != nil {
		t.Fatalf("pgtest: template: %v", err)
	}
	name := "onboard_t_" + rand.Text()[:16]
	// CREATE DATABASE … TEMPLATE fails while another session is connected to the template;
	// concurrent clones from other test processes are such sessions, so retry briefly.
	for attempt := 0; ; attempt++ {
		_, err = admin.Exec(ctx, fmt.Sprintf(`CREATE DATABASE %q TEMPLATE %q`, lower(name), tmpl))
		if err == nil || attempt == 50 {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	if err != nil {
		t.Fatalf("pgtest: create database: %v", err)
	}
	fastCommits(ctx, t, admin, lower(name))
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		c, err := pgx.Connect(ctx, base)
		if err != nil {
			t.Errorf("pgtest: drop database: %v", err)
			return
		}
		defer c.Close(ctx)
		if _, err := c.Exec(ctx, fmt.Sprintf(`DROP DATABASE IF EXISTS %q WITH (FORCE)`, lower(name))); err != nil {
			t.Errorf("pgtest: drop database: %v", err)
		}
	})
	return withDatabase(base, lower(name))
}

// fastCommits lets the test database's commits return before their WAL reaches the disk
// (synchronous_commit = off). A commit waited 2–3 ms for fdatasync here, and every request
// commits its session: under -race on two cores the suite spent minutes on it. Only
// durability across a crash of PostgreSQL itself changes (the last few hundred milliseconds
// of commits could be lost); visibility, locking and ordering do not, and no test crashes
// this server (the fault tests that kill PostgreSQL run a cluster of their own).
func fastCommits(ctx context.Context, t testing.TB, admin *pgx.Conn, name string) {
	t.Helper()
	if _, err := admin.Exec(ctx, fmt.Sprintf(`ALTER DATABASE %q SET synchronous_commit = off`, name)); err != nil {
		t.Fatalf("pgtest: synchronous_commit: %v", err)
	}
}

// NewEmptyURL creates a database with no tables (for migration tests).
func NewEmptyURL(t testing.TB) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	base := BaseURL()
	admin, err := pgx.Connect(ctx, base)
	if err != nil {
		t.Fatalf("pgtest: connect: %v", err)
	}
	defer admin.Close(context.Background())
	name := lower("onboard_e_" + rand.Text()[:16])
	if _, err := admin.Exec(ctx, fmt.Sprintf(`CREATE DATABASE %q`, name)); err != nil {
		t.Fatalf("pgtest: create database: %v", err)
	}
	fastCommits(ctx, t, admin, name)
	t.Cleanup(func() {
		c, err := pgx.Connect(context.Background(), base)
		if err != nil {
			t.Errorf("pgtest: drop database: %v", err)
			return
		}
		defer c.Close(context.Background())
		if _, err := c.Exec(context.Background(), fmt.Sprintf(`DROP DATABASE IF EXISTS %q WITH (FORCE)`, name)); err != nil {
			t.Errorf("pgtest: drop database: %v", err)
		}
	})
	return withDatabase(base, name)
}

// New returns an open handle on a fresh migrated database, closed when the test ends.
func New(t testing.TB) *postgres.DB {
	t.Helper()
	db, err := postgres.Open(context.Background(), NewURL(t), "pgtest", 8)
	if err != nil {
		t.Fatalf("pgtest: open: %v", err)
	}
	t.Cleanup(db.Close)
	return db
}

// NewDemo is New with the demo workspaces and users loaded (their password hashes made up).
func NewDemo(t testing.TB) *postgres.DB {
	t.Helper()
	db := New(t)
	if err := db.LoadDemo(context.Background(), func(string) (string, error) { return "$argon2id$test", nil }); err != nil {
		t.Fatalf("pgtest: load demo: %v", err)
	}
	return db
}

func lower(s string) string {
	b := []byte(s)
	for i, c := range b {
		if c >= 'A' && c <= 'Z' {
			b[i] = c + 'a' - 'A'
		}
	}
	return string(b)
}
