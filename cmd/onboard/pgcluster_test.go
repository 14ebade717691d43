package main

import (
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"slices"
	"strconv"
	"testing"

	"github.com/tenantops/onboard/internal/postgres"
)

// privateCluster is a PostgreSQL cluster of the test's own, created with the system's
// initdb and run with pg_ctl (as the postgres user when the test runs as root, as make run
// does), so that it can be stopped and started without touching the shared server.
type privateCluster struct {
	bin, data string
	port      int
	asPG      bool
	restarts  int
}

// pgBin finds a PostgreSQL program on PATH or under /usr/lib/postgresql/*/bin (newest).
func pgBin(t *testing.T, name string) string {
	if p, err := exec.LookPath(name); err == nil {
		return p
	}
	found, _ := filepath.Glob("/usr/lib/postgresql/*/bin/" + name)
	if len(found) == 0 {
		t.Fatalf("%s not found: install postgresql", name)
	}
	slices.Sort(found)
	return found[len(found)-1]
}

func (c *privateCluster) run(t *testing.T, name string, args ...string) {
	t.Helper()
	prog := pgBin(t, name)
	cmd := exec.Command(prog, args...)
	if c.asPG {
		cmd = exec.Command("runuser", append([]string{"-u", "postgres", "--", prog}, args...)...)
	}
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("%s %v: %v\n%s", name, args, err, out)
	}
}

// startPrivateCluster creates and starts a cluster on a free loopback port, stopped and
// removed at cleanup, and returns it with a database "onboard" created.
func startPrivateCluster(t *testing.T) (*privateCluster, string) {
	dir, err := os.MkdirTemp("", "onboard-soak-pg-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	c := &privateCluster{data: filepath.Join(dir, "data"), asPG: os.Geteuid() == 0}
	if err := os.Mkdir(c.data, 0o700); err != nil {
		t.Fatal(err)
	}
	if c.asPG {
		u, err := user.Lookup("postgres")
		if err != nil {
			t.Fatalf("running as root needs a postgres user: %v", err)
		}
		uid, _ := strconv.Atoi(u.Uid)
		gid, _ := strconv.Atoi(u.Gid)
		if err := os.Chmod(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.Chown(c.data, uid, gid); err != nil {
			t.Fatal(err)
		}
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	c.port = ln.Addr().(*net.TCPAddr).Port
	ln.Close()
	c.run(t, "initdb", "-D", c.data, "-U", "postgres", "-A", "trust", "--no-sync")
	c.start(t)
	t.Cleanup(func() { c.run(t, "pg_ctl", "-D", c.data, "-m", "immediate", "-w", "stop") })
	admin, err := postgres.Open(context.Background(), c.url("postgres"), "soak-admin", 1)
	if err != nil {
		t.Fatal(err)
	}
	defer admin.Close()
	if _, err := admin.Pool.Exec(context.Background(), `CREATE DATABASE onboard`); err != nil {
		t.Fatal(err)
	}
	return c, c.url("onboard")
}

func (c *privateCluster) url(db string) string {
	return fmt.Sprintf("postgres://postgres@127.0.0.1:%d/%s?sslmode=disable", c.port, db)
}

// start starts the cluster and returns once it accepts connections.
func (c *privateCluster) start(t *testing.T) {
	c.run(t, "pg_ctl", "-D", c.data, "-l", filepath.Join(c.data, "server.log"), "-w", "-o",
		fmt.Sprintf("-p %d -k %s -c listen_addresses=127.0.0.1 -c fsync=off", c.port, c.data), "start")
}

// stop is a fast shutdown: sessions are ended, open transactions rolled back.
func (c *privateCluster) stop(t *testing.T) {
	c.run(t, "pg_ctl", "-D", c.data, "-m", "fast", "-w", "stop")
	c.restarts++
}
