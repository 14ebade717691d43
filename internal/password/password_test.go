package password

import (
	"strings"
	"testing"
)

func TestHashVerify(t *testing.T) {
	t.Parallel()
	h, err := Hash("demo-password-1")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(h, "$argon2id$") || strings.Contains(h, "demo-password-1") {
		t.Fatalf("hash %q: want an argon2id PHC string without the password", h)
	}
	for _, tc := range []struct {
		name string
		pw   string
		want bool
	}{
		{"OK", "demo-password-1", true},
		{"Wrong", "demo-password-2", false},
		{"Empty", "", false},
		{"TooLong", strings.Repeat("x", MaxLength+1), false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := Verify(h, tc.pw)
			if err != nil || got != tc.want {
				t.Fatalf("Verify(%q) = %v, %v; want %v, nil", tc.name, got, err, tc.want)
			}
		})
	}
	t.Run("Malformed", func(t *testing.T) {
		for _, bad := range []string{"", "$argon2id$", "$bcrypt$v=19$m=1,t=1,p=1$AA$AA", "$argon2id$v=19$m=x$AA$AA"} {
			if ok, err := Verify(bad, "x"); ok || err == nil {
				t.Errorf("Verify(%q) = %v, %v; want false, error", bad, ok, err)
			}
		}
	})
	t.Run("SaltDiffers", func(t *testing.T) {
		h2, _ := Hash("demo-password-1")
		if h2 == h {
			t.Fatal("two hashes of one password are equal; want a random salt")
		}
	})
}

func TestHashCost(t *testing.T) {
	t.Parallel()
	h, err := Hash("x")
	if err != nil || !strings.Contains(h, "$m=19456,t=2,p=1$") {
		t.Fatalf("Hash = %q, %v; want the recommended cost m=19456,t=2,p=1", h, err)
	}
	cheap, err := HashCost("x", Cost{MemoryKiB: 64, Passes: 1})
	if err != nil || !strings.Contains(cheap, "$m=64,t=1,p=1$") {
		t.Fatalf("HashCost = %q, %v; want m=64,t=1,p=1", cheap, err)
	}
	for _, enc := range []string{h, cheap} { // Verify reads the cost from the hash
		if ok, err := Verify(enc, "x"); !ok || err != nil {
			t.Errorf("Verify(%q) = %v, %v; want true", enc, ok, err)
		}
	}
}
