package server

import (
	"errors"
	"fmt"
	"github.com/taxi-hub/taxi/contract"
	"net/http"
	"strings"

	"github.com/golang-jwt/jwt/v5"
)

// Claims is the body of a client token; see contract.
type Claims = contract.Claims

// Authentication failures. errUnauthenticated is a 401 (no or bad token),
// errForbidden a 403 (a good token for someone else).
var (
	errUnauthenticated = errors.New("unauthenticated")
	errForbidden       = errors.New("forbidden")
)

// authorizer checks that a request acts as the id it names.
type authorizer struct {
	secret   []byte
	insecure bool
	parser   *jwt.Parser
}

func newAuthorizer(cfg *Config) *authorizer {
	return &authorizer{
		secret:   []byte(cfg.AuthSecret),
		insecure: cfg.AuthSecret == "",
		parser:   jwt.NewParser(jwt.WithValidMethods([]string{"HS256"}), jwt.WithExpirationRequired()),
	}
}

// check verifies that r carries a token for id acting as role. In insecure
// mode everyone is who they say.
func (a *authorizer) check(r *http.Request, role Role, id string) error {
	if a.insecure {
		return nil
	}
	claims, err := a.identify(r)
	if err != nil {
		return err
	}
	if claims.Role != role || claims.Subject != id {
		return fmt.Errorf("%w: token is for %s %q, not %s %q", errForbidden, claims.Role, claims.Subject, role, id)
	}
	return nil
}

func tokenFrom(r *http.Request) string {
	if h := r.Header.Get("Authorization"); h != "" {
		if t, ok := strings.CutPrefix(h, "Bearer "); ok {
			return strings.TrimSpace(t)
		}
		return ""
	}
	return r.URL.Query().Get("token")
}

// identify returns the claims of r's token, which must be valid and name a
// driver, a rider or a dispatcher. In insecure mode it returns empty
// claims.
func (a *authorizer) identify(r *http.Request) (Claims, error) {
	if a.insecure {
		return Claims{}, nil
	}
	raw := tokenFrom(r)
	if raw == "" {
		return Claims{}, fmt.Errorf("%w: no token: send Authorization: Bearer <jwt> (or ?token= on WebSocket URLs)", errUnauthenticated)
	}
	var claims Claims
	if _, err := a.parser.ParseWithClaims(raw, &claims, func(*jwt.Token) (any, error) { return a.secret, nil }); err != nil {
		return Claims{}, fmt.Errorf("%w: %v", errUnauthenticated, err)
	}
	if !claims.Role.Valid() {
		return Claims{}, fmt.Errorf("%w: token role %q is not driver, user or dispatcher", errForbidden, claims.Role)
	}
	return claims, nil
}
