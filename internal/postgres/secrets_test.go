package postgres_test

import (
	"bytes"
	"context"
	"testing"
	"time"

	"github.com/tenantops/onboard/internal/onboarding"
	"github.com/tenantops/onboard/internal/operation"
	"github.com/tenantops/onboard/internal/postgres"
)

// secretKeyID returns the key id stored for connection id, "" when its secret is removed.
func (f *fixture) secretKeyID(t *testing.T, id string) string {
	t.Helper()
	var keyID *string
	var sealed []byte
	if err := f.store.Pool.QueryRow(context.Background(), `SELECT secret_key_id, secret_ciphertext FROM provider_connections WHERE id = $1`,
		id).Scan(&keyID, &sealed); err != nil {
		t.Fatal(err)
	}
	if (keyID == nil) != (sealed == nil) {
		t.Fatalf("connection %s: key id %v with ciphertext of %d bytes", id, keyID, len(sealed))
	}
	if keyID == nil {
		return ""
	}
	return *keyID
}

func TestReplacedConnectionSecretRemoved(t *testing.T) {
	t.Parallel()
	f := setup(t)
	ctx := context.Background()

	t.Run("Replaced", func(t *testing.T) {
		d := f.connect(t, f.create(t))
		old := d.ProviderConnectionID
		d = f.connect(t, d)
		if f.secretKeyID(t, old) != "" {
			t.Errorf("replaced connection %s still holds its secret", old)
		}
		if f.secretKeyID(t, d.ProviderConnectionID) == "" {
			t.Errorf("attached connection %s lost its secret", d.ProviderConnectionID)
		}
	})
	// A run started with a connection keeps its secret until the run is over, even when the
	// draft moves on to another connection meanwhile.
	t.Run("KeptWhileARunUsesIt", func(t *testing.T) {
		d := f.connect(t, f.create(t))
		old := d.ProviderConnectionID
		d, run, _, err := f.svc.StartVerification(ctx, f.owner, d.ID, d.Version)
		if err != nil {
			t.Fatal(err)
		}
		f.connect(t, d)
		if f.secretKeyID(t, old) == "" {
			t.Fatalf("connection %s lost its secret while run %s is queued", old, run.ID)
		}
		_, conn, err := f.runs.BeginRun(ctx, run.ID, 1)
		if err != nil || conn.Secret != testSecret {
			t.Fatalf("BeginRun = secret %q, %v; want the connection's secret", conn.Secret, err)
		}
		if err := f.runs.CompleteRun(ctx, run.ID, operation.Completion{Outcome: operation.OutcomeSucceeded}); err != nil {
			t.Fatal(err)
		}
		if f.secretKeyID(t, old) != "" {
			t.Errorf("replaced connection %s still holds its secret after its run completed", old)
		}
	})
}

// TestSecretKeyRotation: with SECRET_KEY replaced and the old key given as previous, secrets
// sealed under the old key still open, ResealSecrets moves them to the new key, and after it
// the new key alone opens them.
func TestSecretKeyRotation(t *testing.T) {
	t.Parallel()
	f := setup(t)
	ctx := context.Background()
	newKey := bytes.Repeat([]byte{9}, 32)
	var runs, conns []string
	for range 2 {
		d := f.connect(t, f.create(t))
		_, run, _, err := f.svc.StartVerification(ctx, f.owner, d.ID, d.Version)
		if err != nil {
			t.Fatal(err)
		}
		runs, conns = append(runs, run.ID), append(conns, d.ProviderConnectionID)
	}
	oldKeyID := f.secretKeyID(t, conns[0])

	rotated, err := postgres.NewStore(f.store.DB, postgres.StoreConfig{SecretKey: newKey, PreviousKeys: [][]byte{testKey}})
	if err != nil {
		t.Fatal(err)
	}
	if _, conn, err := onboarding.NewRunService(rotated, time.Now).BeginRun(ctx, runs[0], 1); err != nil || conn.Secret != testSecret {
		t.Fatalf("BeginRun under the new key with the old one previous = %q, %v; want the secret", conn.Secret, err)
	}
	n, err := rotated.ResealSecrets(ctx)
	if err != nil || n != 2 {
		t.Fatalf("ResealSecrets = %d, %v; want 2", n, err)
	}
	for _, c := range conns {
		if got := f.secretKeyID(t, c); got != rotated.KeyID() || got == oldKeyID {
			t.Errorf("connection %s sealed under %s after reseal, want %s", c, got, rotated.KeyID())
		}
	}
	if n, err := rotated.ResealSecrets(ctx); err != nil || n != 0 {
		t.Errorf("second ResealSecrets = %d, %v; want 0", n, err)
	}
	newOnly, err := postgres.NewStore(f.store.DB, postgres.StoreConfig{SecretKey: newKey})
	if err != nil {
		t.Fatal(err)
	}
	if _, conn, err := onboarding.NewRunService(newOnly, time.Now).BeginRun(ctx, runs[1], 1); err != nil || conn.Secret != testSecret {
		t.Fatalf("BeginRun under the new key alone after reseal = %q, %v; want the secret", conn.Secret, err)
	}
}
