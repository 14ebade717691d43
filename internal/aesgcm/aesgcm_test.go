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
		got, err := box.Open(box.KeyID(), sealed, []byte("row-1"))
		if err != nil || !bytes.Equal(got, plain) {
			t.Errorf("Open = %q, %v; want %q, nil", got, err, plain)
		}
	})
	t.Run("WrongAD", func(t *testing.T) {
		if _, err := box.Open(box.KeyID(), sealed, []byte("row-2")); !errors.Is(err, ErrOpen) {
			t.Errorf("Open with other ad: err = %v, want ErrOpen", err)
		}
	})
	t.Run("WrongKey", func(t *testing.T) {
		other, _ := New(testKey(2))
		if other.KeyID() == box.KeyID() {
			t.Errorf("two keys share key id %q", box.KeyID())
		}
		if _, err := other.Open(box.KeyID(), sealed, []byte("row-1")); !errors.Is(err, ErrUnknownKey) {
			t.Errorf("Open with other key: err = %v, want ErrUnknownKey", err)
		}
		if _, err := other.Open(other.KeyID(), sealed, []byte("row-1")); !errors.Is(err, ErrOpen) {
			t.Errorf("Open under the wrong key id: err = %v, want ErrOpen", err)
		}
	})
	t.Run("Tampered", func(t *testing.T) {
		bad := bytes.Clone(sealed)
		bad[len(bad)-1] ^= 1
		if _, err := box.Open(box.KeyID(), bad, []byte("row-1")); !errors.Is(err, ErrOpen) {
			t.Errorf("Open tampered: err = %v, want ErrOpen", err)
		}
		if _, err := box.Open(box.KeyID(), sealed[:5], []byte("row-1")); !errors.Is(err, ErrOpen) {
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

// TestRotation: after SECRET_KEY changes, values sealed under the previous key still open,
// new values are sealed under the current key, and a key given neither way is refused.
func TestRotation(t *testing.T) {
	t.Parallel()
	old, _ := New(testKey(1))
	sealed, err := old.Seal([]byte("v"), []byte("row-1"))
	if err != nil {
		t.Fatal(err)
	}
	rotated, err := New(testKey(2), testKey(1))
	if err != nil {
		t.Fatal(err)
	}
	if rotated.KeyID() == old.KeyID() {
		t.Fatalf("rotated box seals under the previous key %s", old.KeyID())
	}
	t.Run("PreviousOpens", func(t *testing.T) {
		if got, err := rotated.Open(old.KeyID(), sealed, []byte("row-1")); err != nil || string(got) != "v" {
			t.Errorf("Open previous = %q, %v; want v", got, err)
		}
	})
	t.Run("SealsUnderCurrent", func(t *testing.T) {
		again, _ := rotated.Seal([]byte("v"), []byte("row-1"))
		current, _ := New(testKey(2))
		if got, err := current.Open(rotated.KeyID(), again, []byte("row-1")); err != nil || string(got) != "v" {
			t.Errorf("Open with the current key alone = %q, %v; want v", got, err)
		}
	})
	t.Run("PreviousDropped", func(t *testing.T) {
		current, _ := New(testKey(2))
		if _, err := current.Open(old.KeyID(), sealed, []byte("row-1")); !errors.Is(err, ErrUnknownKey) {
			t.Errorf("Open without the previous key: err = %v, want ErrUnknownKey", err)
		}
	})
	t.Run("BadPreviousKey", func(t *testing.T) {
		if _, err := New(testKey(2), []byte("short")); err == nil {
			t.Error("New accepted a previous key of 5 bytes")
		}
	})
}
