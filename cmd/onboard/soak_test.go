//go:build soak

package main

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/tenantops/onboard/internal/postgres"
	"github.com/tenantops/onboard/internal/testkit"
)

// TestSoakPostgresRestart (make soak only: creating a cluster takes seconds): the outage of
// TestFaultDatabaseOutage, made by really restarting PostgreSQL (pg_ctl stop -m fast, then
// start) rather than by cutting a proxy, for SOAK_DURATION.
func TestSoakPostgresRestart(t *testing.T) {
	t.Parallel()
	c, dbURL := startPrivateCluster(t)
	direct, err := postgres.Open(context.Background(), dbURL, "soak-direct", 2)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(direct.Close)
	testOutages(t, outageRig{
		appURL:   dbURL,
		direct:   func() *postgres.DB { return direct },
		cut:      c.stop,
		restore:  c.start,
		describe: func() string { return fmt.Sprintf("pg_ctl: %d restarts (stop -m fast, start)", c.restarts) },
	}, testkit.SoakDuration(t, time.Minute))
}
