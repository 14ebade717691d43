package postgres

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/tenantops/onboard/internal/aesgcm"
	"github.com/tenantops/onboard/internal/fault"
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
		return nil, fault.ErrNotFound
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
	var connID string
	var keyID *string
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
	if keyID == nil {
		return provider.Connection{}, fmt.Errorf("provider connection %s: secret removed (the connection was replaced)", connID)
	}
	secret, err := s.box.Open(*keyID, sealed, connectionAD(connID))
	if err != nil {
		return provider.Connection{}, fmt.Errorf("provider connection %s, key %q: %w", connID, *keyID, err)
	}
	c.Secret = string(secret)
	return c, nil
}

// ResealSecrets seals every provider secret held under a previous key again under the
// current one and returns how many it changed. After it has run with SECRET_KEY_PREVIOUS
// set, the previous key is no longer needed.
//
// Why FOR UPDATE SKIP LOCKED in one transaction: processes starting together each reseal
// the rows the others have not locked, and a row is never sealed twice from a stale read.
func (s *Store) ResealSecrets(ctx context.Context) (int, error) {
	n := 0
	err := s.InTx(ctx, func(tx pgx.Tx) error {
		rows, err := tx.Query(ctx, `SELECT id::text, secret_ciphertext, secret_key_id FROM provider_connections
			WHERE secret_key_id <> $1 FOR UPDATE SKIP LOCKED`, s.box.KeyID())
		if err != nil {
			return fmt.Errorf("list sealed secrets: %w", err)
		}
		type row struct {
			id, keyID string
			sealed    []byte
		}
		var stale []row
		for rows.Next() {
			var r row
			if err := rows.Scan(&r.id, &r.sealed, &r.keyID); err != nil {
				rows.Close()
				return fmt.Errorf("scan sealed secret: %w", err)
			}
			stale = append(stale, r)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return fmt.Errorf("list sealed secrets: %w", err)
		}
		for _, r := range stale {
			plain, err := s.box.Open(r.keyID, r.sealed, connectionAD(r.id))
			if errors.Is(err, aesgcm.ErrUnknownKey) {
				continue // sealed under a key this process was not given; left for one that has it
			}
			if err != nil {
				return fmt.Errorf("provider connection %s, key %q: %w", r.id, r.keyID, err)
			}
			sealed, err := s.box.Seal(plain, connectionAD(r.id))
			if err != nil {
				return fmt.Errorf("seal client secret: %w", err)
			}
			if _, err := tx.Exec(ctx, `UPDATE provider_connections SET secret_ciphertext = $2, secret_key_id = $3 WHERE id = $1`,
				r.id, sealed, s.box.KeyID()); err != nil {
				return fmt.Errorf("reseal provider connection %s: %w", r.id, err)
			}
			n++
		}
		return nil
	})
	if err != nil {
		return 0, err
	}
	return n, nil
}

func connectionAD(id string) []byte { return []byte("provider_connections:" + id) }

// KeyID names the key new secrets are sealed under (never the key itself).
func (s *Store) KeyID() string { return s.box.KeyID() }
