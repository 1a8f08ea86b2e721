package loadtest

import (
	"fmt"
	"time"

	"github.com/taxi-hub/taxi/contract"
)

// minter signs the tokens the hubs expect, through contract.NewToken. A nil
// minter means insecure hubs.
type minter struct {
	secret string
	ttl    time.Duration
}

func newMinter(secret string, ttl time.Duration) *minter {
	if secret == "" {
		return nil
	}
	return &minter{secret: secret, ttl: ttl}
}

// token returns a signed token for id in role, or "" for insecure hubs.
func (m *minter) token(role contract.Role, id string) (string, error) {
	if m == nil {
		return "", nil
	}
	tok, err := contract.NewToken(m.secret, role, id, m.ttl)
	if err != nil {
		return "", fmt.Errorf("mint %s token for %s: %w", role, id, err)
	}
	return tok, nil
}
