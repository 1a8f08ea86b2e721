package loadtest

import (
	"fmt"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// minter signs the HS256 tokens the hubs expect: sub is the driver or rider
// id and role is "driver" or "user". A nil minter means insecure hubs.
type minter struct {
	secret []byte
	ttl    time.Duration
}

func newMinter(secret string, ttl time.Duration) *minter {
	if secret == "" {
		return nil
	}
	return &minter{secret: []byte(secret), ttl: ttl}
}

// token returns a signed token for id in role, or "" for insecure hubs.
func (m *minter) token(role, id string) (string, error) {
	if m == nil {
		return "", nil
	}
	now := time.Now()
	claims := jwt.MapClaims{
		"sub":  id,
		"role": role,
		"iat":  now.Unix(),
		"exp":  now.Add(m.ttl).Unix(),
	}
	s, err := jwt.NewWithClaims(jwt.SigningMethodHS256, claims).SignedString(m.secret)
	if err != nil {
		return "", fmt.Errorf("sign %s token for %s: %w", role, id, err)
	}
	return s, nil
}
