// Package aesgcm seals small secrets (provider client secrets) with AES-256-GCM under one
// current 32-byte key. A sealed value is nonce || ciphertext || tag; the key id stored beside it
// names the key that sealed it, so that after a rotation values sealed under a previous key
// still open (and can be sealed again under the current one). Standard library only.
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

// ErrUnknownKey is returned when a value was sealed under a key the Box does not hold.
var ErrUnknownKey = errors.New("aesgcm: sealed under an unknown key")

// ErrOpen is returned when a sealed value cannot be opened: wrong key, wrong associated data,
// or tampered bytes.
var ErrOpen = errors.New("aesgcm: cannot open sealed value")

// Box seals values under its current key and opens values sealed under the current or a
// previous key. It is safe for concurrent use.
type Box struct {
	keyID string
	keys  map[string]cipher.AEAD // by key id; holds the current key and the previous ones
}

// New returns a Box sealing under key and also opening values sealed under the previous
// keys; every key is 32 bytes. A key id is derived from its key (a truncated SHA-256 of a
// domain-separated copy), so it identifies the key without revealing it.
func New(key []byte, previous ...[]byte) (*Box, error) {
	b := &Box{keys: map[string]cipher.AEAD{}}
	for i, k := range append([][]byte{key}, previous...) {
		if len(k) != KeySize {
			return nil, fmt.Errorf("aesgcm: key must be %d bytes, got %d", KeySize, len(k))
		}
		block, err := aes.NewCipher(k)
		if err != nil {
			return nil, fmt.Errorf("aesgcm: %w", err)
		}
		aead, err := cipher.NewGCM(block)
		if err != nil {
			return nil, fmt.Errorf("aesgcm: %w", err)
		}
		// The separator keeps the package's former name: stored key ids are derived with it.
		sum := sha256.Sum256(append([]byte("onboard secretbox key id\x00"), k...))
		id := "k" + hex.EncodeToString(sum[:6])
		if i == 0 {
			b.keyID = id
		}
		if _, dup := b.keys[id]; !dup {
			b.keys[id] = aead
		}
	}
	return b, nil
}

// KeyID names the current key, the one Seal uses.
func (b *Box) KeyID() string { return b.keyID }

// Seal encrypts plaintext bound to ad (associated data, for example the row id, so a sealed
// value cannot be moved to another row). A fresh random nonce is prefixed to the result.
func (b *Box) Seal(plaintext, ad []byte) ([]byte, error) {
	aead := b.keys[b.keyID]
	nonce := make([]byte, aead.NonceSize(), aead.NonceSize()+len(plaintext)+aead.Overhead())
	if _, err := rand.Read(nonce); err != nil {
		return nil, fmt.Errorf("aesgcm: nonce: %w", err)
	}
	return aead.Seal(nonce, nonce, plaintext, ad), nil
}

// Open decrypts a value that Seal sealed with ad under the key named keyID.
func (b *Box) Open(keyID string, sealed, ad []byte) ([]byte, error) {
	aead, ok := b.keys[keyID]
	if !ok {
		return nil, ErrUnknownKey
	}
	n := aead.NonceSize()
	if len(sealed) < n+aead.Overhead() {
		return nil, ErrOpen
	}
	out, err := aead.Open(nil, sealed[:n], sealed[n:], ad)
	if err != nil {
		return nil, ErrOpen
	}
	return out, nil
}
