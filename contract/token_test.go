package contract

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

const testSecret = "a-test-secret-of-32-bytes-length"

func TestNewTokenVerifies(t *testing.T) {
	v, err := NewVerifier(testSecret)
	if err != nil {
		t.Fatal(err)
	}
	for _, role := range []Role{RoleDriver, RoleUser, RoleDispatcher} {
		tok, err := NewToken(testSecret, role, "id-7", time.Hour)
		if err != nil {
			t.Fatalf("NewToken(%s): %v", role, err)
		}
		c, err := v.Verify(tok)
		if err != nil {
			t.Fatalf("Verify(%s token): %v", role, err)
		}
		if c.Role != role || c.Subject != "id-7" || c.ExpiresAt == nil || c.IssuedAt == nil ||
			c.ExpiresAt.Sub(c.IssuedAt.Time) != time.Hour {
			t.Fatalf("claims = %+v", c)
		}
	}
}

func TestSecretRule(t *testing.T) {
	if !errors.Is(CheckSecret(""), ErrNoSecret) {
		t.Error(`CheckSecret("") is not ErrNoSecret`)
	}
	if !errors.Is(CheckSecret(strings.Repeat("s", MinSecretLen-1)), ErrShortSecret) {
		t.Error("CheckSecret of 15 bytes is not ErrShortSecret")
	}
	if err := CheckSecret(strings.Repeat("s", MinSecretLen)); err != nil {
		t.Errorf("CheckSecret of 16 bytes = %v", err)
	}
	if _, err := NewVerifier("short"); !errors.Is(err, ErrShortSecret) {
		t.Errorf("NewVerifier(short) = %v, want ErrShortSecret", err)
	}
}

func TestNewTokenRefuses(t *testing.T) {
	tests := []struct {
		name, secret string
		role         Role
		id           string
		want         error // nil: any error
	}{
		{"unknown role", testSecret, "admin", "x", nil},
		{"bad id", testSecret, RoleDriver, "bad id", nil},
		{"long id", testSecret, RoleDriver, strings.Repeat("x", 65), nil},
		{"no secret", "", RoleDriver, "d1", ErrNoSecret},
		{"short secret", "fifteen-bytes!!", RoleDriver, "d1", ErrShortSecret},
	}
	for _, tt := range tests {
		tok, err := NewToken(tt.secret, tt.role, tt.id, time.Hour)
		if err == nil || tok != "" || (tt.want != nil && !errors.Is(err, tt.want)) {
			t.Errorf("%s: NewToken = %q, %v; want no token and %v", tt.name, tok, err, tt.want)
		}
	}
}

func TestVerifyRefuses(t *testing.T) {
	v, err := NewVerifier(testSecret)
	if err != nil {
		t.Fatal(err)
	}
	sign := func(m jwt.SigningMethod, key any, claims jwt.MapClaims) string {
		s, err := jwt.NewWithClaims(m, claims).SignedString(key)
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	exp := time.Now().Add(time.Hour).Unix()
	expired, _ := NewToken(testSecret, RoleDriver, "d1", -time.Minute)
	forged, _ := NewToken("another-secret-of-26-bytes", RoleDriver, "d1", time.Hour)
	tests := []struct {
		name, token string
		want        error
	}{
		{"garbage", "not.a.token", ErrInvalidToken},
		{"expired", expired, ErrInvalidToken},
		{"forged", forged, ErrInvalidToken},
		{"unsigned", sign(jwt.SigningMethodNone, jwt.UnsafeAllowNoneSignatureType, jwt.MapClaims{"sub": "d1", "role": "driver", "exp": exp}), ErrInvalidToken},
		{"HS384", sign(jwt.SigningMethodHS384, []byte(testSecret), jwt.MapClaims{"sub": "d1", "role": "driver", "exp": exp}), ErrInvalidToken},
		{"no expiry", sign(jwt.SigningMethodHS256, []byte(testSecret), jwt.MapClaims{"sub": "d1", "role": "driver"}), ErrInvalidToken},
		{"unknown role", sign(jwt.SigningMethodHS256, []byte(testSecret), jwt.MapClaims{"sub": "d1", "role": "admin", "exp": exp}), ErrTokenRole},
	}
	for _, tt := range tests {
		if _, err := v.Verify(tt.token); !errors.Is(err, tt.want) {
			t.Errorf("%s: Verify = %v, want %v", tt.name, err, tt.want)
		}
	}
}
