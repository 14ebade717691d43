// Package password hashes and verifies operator passwords with argon2id.
package password

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"

	"golang.org/x/crypto/argon2"
)

const (
	lanes   = 1
	keyLen  = 32
	saltLen = 16
)

// Cost is argon2id's work factor for a new hash. Verify reads the cost from the hash itself,
// so hashes of different costs verify side by side.
type Cost struct {
	MemoryKiB uint32
	Passes    uint32
}

// Recommended is the OWASP recommendation for argon2id (19 MiB, 2 passes, 1 lane): what Hash
// uses, and what every password the product stores is hashed with.
var Recommended = Cost{MemoryKiB: 19 * 1024, Passes: 2}

// MaxLength bounds the password accepted, so hashing cost cannot be abused.
const MaxLength = 1024

var errMalformed = errors.New("malformed password hash")

// Hash returns an encoded argon2id hash of pw in the PHC string format, at the Recommended cost.
func Hash(pw string) (string, error) { return HashCost(pw, Recommended) }

// HashCost is Hash at cost c. Only tests pass another cost than Recommended: end-to-end
// tests under the race detector sign in hundreds of times, and each argon2id pass at 19 MiB
// costs them about a second of CPU.
func HashCost(pw string, c Cost) (string, error) {
	if len(pw) > MaxLength {
		return "", fmt.Errorf("password longer than %d bytes", MaxLength)
	}
	salt := make([]byte, saltLen)
	if _, err := rand.Read(salt); err != nil {
		return "", fmt.Errorf("read salt: %w", err)
	}
	key := argon2.IDKey([]byte(pw), salt, c.Passes, c.MemoryKiB, lanes, keyLen)
	b64 := base64.RawStdEncoding
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s",
		argon2.Version, c.MemoryKiB, c.Passes, lanes, b64.EncodeToString(salt), b64.EncodeToString(key)), nil
}

// Verify reports whether pw matches the encoded hash, in constant time.
func Verify(encoded, pw string) (bool, error) {
	if len(pw) > MaxLength {
		return false, nil
	}
	parts := strings.Split(encoded, "$")
	if len(parts) != 6 || parts[1] != "argon2id" {
		return false, errMalformed
	}
	var version int
	if _, err := fmt.Sscanf(parts[2], "v=%d", &version); err != nil || version != argon2.Version {
		return false, errMalformed
	}
	var m uint32
	var t uint32
	var p uint8
	if _, err := fmt.Sscanf(parts[3], "m=%d,t=%d,p=%d", &m, &t, &p); err != nil {
		return false, errMalformed
	}
	b64 := base64.RawStdEncoding
	salt, err := b64.DecodeString(parts[4])
	if err != nil {
		return false, errMalformed
	}
	want, err := b64.DecodeString(parts[5])
	if err != nil || len(want) == 0 {
		return false, errMalformed
	}
	got := argon2.IDKey([]byte(pw), salt, t, m, p, uint32(len(want)))
	return subtle.ConstantTimeCompare(got, want) == 1, nil
}
