package loadtest

import (
	"errors"
	"testing"
	"time"

	"github.com/taxi-hub/taxi/contract"
)

func TestMinterTokensVerify(t *testing.T) {
	if tok, err := newMinter("", time.Minute).token(roleDriver, "d1"); tok != "" || err != nil {
		t.Fatalf("insecure minter = %q, %v; want no token", tok, err)
	}
	m := newMinter(testSecret, time.Minute)
	v, err := contract.NewVerifier(testSecret)
	if err != nil {
		t.Fatal(err)
	}
	for _, role := range []contract.Role{roleDriver, roleUser} {
		tok, err := m.token(role, driverID("r1", 7))
		if err != nil {
			t.Fatalf("token(%s): %v", role, err)
		}
		c, err := v.Verify(tok)
		if err != nil || c.Role != role || c.Subject != "bench-r1-d7" || c.ExpiresAt.Sub(c.IssuedAt.Time) != time.Minute {
			t.Fatalf("claims of the %s token = %+v, %v", role, c, err)
		}
	}
}

// A secret taxi serve would refuse is refused before any connection.
func TestNewRefusesAShortSecret(t *testing.T) {
	o := quick("http://127.0.0.1:1")
	o.AuthSecret = "fifteen-bytes!!"
	if _, err := New(o); !errors.Is(err, contract.ErrShortSecret) {
		t.Fatalf("New with a 15-byte secret = %v, want ErrShortSecret", err)
	}
}
