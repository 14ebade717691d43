// Package aesgcm seals small secrets (provider client secrets) with AES-256-GCM under one
// 32-byte key. A sealed value is nonce || ciphertext || tag; the key id names the key so that a
// later key rotation can tell which key sealed a row. Standard library only.
package aesgcm

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
)

// KeySize is the size of an AES-256 key in bytes.
const KeySize = 32

// ErrOpen is returned when a sealed value cannot be opened: wrong key, wrong associated data,
// or tampered bytes.
var ErrOpen = errors.New("aesgcm: cannot open sealed value")

// Box seals and opens values under one key. It is safe for concurrent use.
type Box struct {
	aead  cipher.AEAD
	keyID string
}

// New returns a Box for a 32-byte key. The key id is derived from the key (a truncated
// SHA-256 of a domain-separated copy), so it identifies the key without revealing it.
func New(key []byte) (*Box, error) {
	if len(key) != KeySize {
		return nil, fmt.Errorf("aesgcm: key must be %d bytes, got %d", KeySize, len(key))
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, fmt.Errorf("aesgcm: %w", err)
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, fmt.Errorf("aesgcm: %w", err)
	}
	// The separator keeps the package's former name: stored key ids are derived with it.
	sum := sha256.Sum256(append([]byte("onboard secretbox key id\x00"), key...))
	return &Box{aead: aead, keyID: "k" + hex.EncodeToString(sum[:6])}, nil
}

// KeyID names the key values are sealed with.
func (b *Box) KeyID() string { return b.keyID }

// Seal encrypts plaintext bound to ad (associated data, for example the row id, so a sealed
// value cannot be moved to another row). A fresh random nonce is prefixed to the result.
func (b *Box) Seal(plaintext, ad []byte) ([]byte, error) {
	nonce := make([]byte, b.aead.NonceSize(), b.aead.NonceSize()+len(plaintext)+b.aead.Overhead())
	if _, err := rand.Read(nonce); err != nil {
		return nil, fmt.Errorf("aesgcm: nonce: %w", err)
	}
	return b.aead.Seal(nonce, nonce, plaintext, ad), nil
}

// Open decrypts a value sealed by Seal with the same key and ad.
func (b *Box) Open(sealed, ad []byte) ([]byte, error) {
	n := b.aead.NonceSize()
	if len(sealed) < n+b.aead.Overhead() {
		return nil, ErrOpen
	}
	out, err := b.aead.Open(nil, sealed[:n], sealed[n:], ad)
	if err != nil {
		return nil, ErrOpen
	}
	return out, nil
}
