package contract

import (
	"errors"
	"fmt"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// MinSecretLen is the shortest HS256 secret, in bytes, that taxi serve
// accepts and NewToken signs with.
const MinSecretLen = 16

// Errors of CheckSecret, NewToken and Verifier.Verify. Callers check them
// with errors.Is.
var (
	ErrNoSecret    = errors.New("contract: no auth secret")
	ErrShortSecret = errors.New("contract: auth secret is shorter than 16 bytes")
	// ErrInvalidToken means a token is malformed, not signed with the
	// secret by HS256, without an expiry, or expired.
	ErrInvalidToken = errors.New("contract: invalid token")
	// ErrTokenRole means a token is valid but its role is not driver,
	// user or dispatcher.
	ErrTokenRole = errors.New("contract: token role is not driver, user or dispatcher")
)

// Claims is the body of a client token: who (sub) acts as what (role), with
// iat and exp in Unix seconds.
type Claims struct {
	Role Role `json:"role"`
	jwt.RegisteredClaims
}

// CheckSecret returns ErrNoSecret or ErrShortSecret unless secret is at least
// MinSecretLen bytes: the rule taxi serve applies to --auth-secret.
func CheckSecret(secret string) error {
	switch {
	case secret == "":
		return ErrNoSecret
	case len(secret) < MinSecretLen:
		return ErrShortSecret
	}
	return nil
}

// NewToken signs an HS256 token for id acting as role, valid for ttl from
// now (a ttl of zero or less gives a token that has already expired). It
// refuses a role other than driver, user or dispatcher, an id that is not ValidID and a
// secret that CheckSecret refuses, so it never mints a token that taxi
// serve would not accept.
func NewToken(secret string, role Role, id string, ttl time.Duration) (string, error) {
	if !role.Valid() {
		return "", fmt.Errorf("new token: role %q is not driver, user or dispatcher", role)
	}
	if !ValidID(id) {
		return "", fmt.Errorf("new token: sub %q must be 1 to 64 characters of [A-Za-z0-9_-]", id)
	}
	if err := CheckSecret(secret); err != nil {
		return "", fmt.Errorf("new token: %w", err)
	}
	now := time.Now()
	claims := Claims{
		Role: role,
		RegisteredClaims: jwt.RegisteredClaims{
			Subject:   id,
			IssuedAt:  jwt.NewNumericDate(now),
			ExpiresAt: jwt.NewNumericDate(now.Add(ttl)),
		},
	}
	s, err := jwt.NewWithClaims(jwt.SigningMethodHS256, claims).SignedString([]byte(secret))
	if err != nil {
		return "", fmt.Errorf("new token: %w", err)
	}
	return s, nil
}

// Verifier checks the tokens signed with one secret. It is safe for
// concurrent use.
type Verifier struct {
	secret []byte
	parser *jwt.Parser
}

// NewVerifier returns a Verifier for secret, or CheckSecret's error.
func NewVerifier(secret string) (*Verifier, error) {
	if err := CheckSecret(secret); err != nil {
		return nil, fmt.Errorf("new verifier: %w", err)
	}
	return &Verifier{
		secret: []byte(secret),
		parser: jwt.NewParser(jwt.WithValidMethods([]string{jwt.SigningMethodHS256.Alg()}), jwt.WithExpirationRequired()),
	}, nil
}

// Verify returns the claims of raw, which must be an HS256 token signed with
// the secret, with an expiry in the future, for a driver, a user or a
// dispatcher. Errors
// wrap ErrInvalidToken (with the reason) or ErrTokenRole.
func (v *Verifier) Verify(raw string) (Claims, error) {
	var claims Claims
	if _, err := v.parser.ParseWithClaims(raw, &claims, func(*jwt.Token) (any, error) { return v.secret, nil }); err != nil {
		return Claims{}, fmt.Errorf("%w: %w", ErrInvalidToken, err)
	}
	if !claims.Role.Valid() {
		return Claims{}, fmt.Errorf("%w: %q", ErrTokenRole, claims.Role)
	}
	return claims, nil
}
