package postgres

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/tenantops/onboard/internal/onboarding"
	"github.com/tenantops/onboard/internal/provider"
)

// CreateConnection implements onboarding.Tx. The secret is sealed with AES-256-GCM, bound to
// the connection's id (generated here so it can be the associated data), and only the
// ciphertext and the key id reach the table.
func (t *storeTx) CreateConnection(ctx context.Context, c onboarding.NewConnection) (string, error) {
	id := onboarding.NewGUID()
	sealed, err := t.s.box.Seal([]byte(c.Secret), connectionAD(id))
	if err != nil {
		return "", fmt.Errorf("seal client secret: %w", err)
	}
	var createdBy *int64
	if c.CreatedBy != 0 {
		createdBy = &c.CreatedBy
	}
	if _, err := t.tx.Exec(ctx, `INSERT INTO provider_connections
			(id, workspace_id, tenant_id, client_id, secret_ciphertext, secret_key_id, created_by, created_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`,
		id, c.WorkspaceID, c.TenantID, c.ClientID, sealed, t.s.box.KeyID(), createdBy, c.Now); err != nil {
		return "", fmt.Errorf("insert provider connection: %w", err)
	}
	return id, nil
}

// DraftConnection implements onboarding.Store.
func (s *Store) DraftConnection(ctx context.Context, draftID string) (*onboarding.ConnectionInfo, error) {
	if !onboarding.IsGUID(draftID) {
		return nil, onboarding.ErrNotFound
	}
	var c onboarding.ConnectionInfo
	var status string
	err := s.Pool.QueryRow(ctx, `SELECT c.id::text, c.client_id::text, c.status, c.created_at
		FROM managed_tenant_onboarding_sessions s JOIN provider_connections c ON c.id = s.provider_connection_id
		WHERE s.id = $1`, draftID).Scan(&c.ID, &c.ClientID, &status, &c.CreatedAt)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("load connection: %w", err)
	}
	c.Status = onboarding.ConnectionStatus(status)
	return &c, nil
}

// RunConnection implements onboarding.RunTx: what a worker needs to reach the run's tenant,
// the connection named in the run's context with its secret opened, and the draft's primary
// domain. It is the only place a secret is opened.
func (t *storeTx) RunConnection(ctx context.Context, runID string) (provider.Connection, error) {
	s, tx := t.s, t.tx
	var c provider.Connection
	var connID, keyID string
	var sealed []byte
	err := tx.QueryRow(ctx, `SELECT r.tenant_id::text, coalesce(d.primary_domain, t.primary_domain),
			c.id::text, c.client_id::text, c.secret_ciphertext, c.secret_key_id
		FROM operation_runs r
		JOIN tenants t ON t.workspace_id = r.workspace_id AND t.tenant_id = r.tenant_id
		LEFT JOIN managed_tenant_onboarding_sessions d ON d.id = r.draft_id
		JOIN provider_connections c ON c.id = (r.context->>'connection_id')::uuid
		WHERE r.id = $1`, runID).Scan(&c.TenantID, &c.PrimaryDomain, &connID, &c.ClientID, &sealed, &keyID)
	if errors.Is(err, pgx.ErrNoRows) {
		return provider.Connection{}, fmt.Errorf("run %s: provider connection not found", runID)
	}
	if err != nil {
		return provider.Connection{}, fmt.Errorf("load run connection: %w", err)
	}
	if keyID != s.box.KeyID() {
		return provider.Connection{}, fmt.Errorf("provider connection %s: sealed with unknown key %q", connID, keyID)
	}
	secret, err := s.box.Open(sealed, connectionAD(connID))
	if err != nil {
		return provider.Connection{}, fmt.Errorf("provider connection %s: %w", connID, err)
	}
	c.Secret = string(secret)
	return c, nil
}

func connectionAD(id string) []byte { return []byte("provider_connections:" + id) }
