package aesgcm

import (
	"bytes"
	"errors"
	"testing"
)

func testKey(b byte) []byte { return bytes.Repeat([]byte{b}, KeySize) }

func TestSealOpen(t *testing.T) {
	t.Parallel()
	box, err := New(testKey(1))
	if err != nil {
		t.Fatal(err)
	}
	plain := []byte("s3cr3t-Q~value")
	sealed, err := box.Seal(plain, []byte("row-1"))
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(sealed, plain) {
		t.Fatalf("sealed value contains the plaintext")
	}
	t.Run("OK", func(t *testing.T) {
		got, err := box.Open(sealed, []byte("row-1"))
		if err != nil || !bytes.Equal(got, plain) {
			t.Errorf("Open = %q, %v; want %q, nil", got, err, plain)
		}
	})
	t.Run("WrongAD", func(t *testing.T) {
		if _, err := box.Open(sealed, []byte("row-2")); !errors.Is(err, ErrOpen) {
			t.Errorf("Open with other ad: err = %v, want ErrOpen", err)
		}
	})
	t.Run("WrongKey", func(t *testing.T) {
		other, _ := New(testKey(2))
		if other.KeyID() == box.KeyID() {
			t.Errorf("two keys share key id %q", box.KeyID())
		}
		if _, err := other.Open(sealed, []byte("row-1")); !errors.Is(err, ErrOpen) {
			t.Errorf("Open with other key: err = %v, want ErrOpen", err)
		}
	})
	t.Run("Tampered", func(t *testing.T) {
		bad := bytes.Clone(sealed)
		bad[len(bad)-1] ^= 1
		if _, err := box.Open(bad, []byte("row-1")); !errors.Is(err, ErrOpen) {
			t.Errorf("Open tampered: err = %v, want ErrOpen", err)
		}
		if _, err := box.Open(sealed[:5], []byte("row-1")); !errors.Is(err, ErrOpen) {
			t.Errorf("Open short: err = %v, want ErrOpen", err)
		}
	})
	t.Run("FreshNonce", func(t *testing.T) {
		again, _ := box.Seal(plain, []byte("row-1"))
		if bytes.Equal(again, sealed) {
			t.Errorf("two seals of the same value are identical")
		}
	})
}

func TestNewRejectsShortKey(t *testing.T) {
	t.Parallel()
	if _, err := New(make([]byte, 16)); err == nil {
		t.Errorf("New(16 bytes) = nil error, want error")
	}
}
