package server

import (
	"github.com/taxi-hub/taxi/contract"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

const testSecret = "test-secret-of-at-least-16-bytes"

func TestNewRefusesToStartWithoutSecretUnlessInsecure(t *testing.T) {
	if _, err := New(Config{}); err == nil || !strings.Contains(err.Error(), "--insecure") {
		t.Fatalf("New without secret: err = %v, want a hint about --insecure", err)
	}
	if _, err := New(Config{AuthSecret: "short"}); err == nil {
		t.Fatal("New with a 5-byte secret: no error")
	}
}

func token(t *testing.T, role Role, id string, ttl time.Duration) string {
	t.Helper()
	tok, err := contract.NewToken(testSecret, role, id, ttl)
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

func TestAuthentication(t *testing.T) {
	h := startHub(t, Config{AuthSecret: testSecret})
	driver := token(t, RoleDriver, "d1", time.Hour)
	rider := token(t, RoleUser, "u1", time.Hour)
	expired := token(t, RoleDriver, "d1", -time.Minute)
	forged, _ := contract.NewToken("another-secret-of-16-bytes", RoleDriver, "d1", time.Hour)
	none, _ := jwt.NewWithClaims(jwt.SigningMethodNone, jwt.MapClaims{"sub": "d1", "role": "driver", "exp": time.Now().Add(time.Hour).Unix()}).SignedString(jwt.UnsafeAllowNoneSignatureType)

	createBody := map[string]any{"user_id": "u1", "pickup": Point{Lat: 1, Lng: 1}, "dropoff": Point{Lat: 2, Lng: 2}}
	var o Order
	if code := h.request(t, "POST", "/orders", rider, createBody, &o); code != http.StatusCreated {
		t.Fatalf("create with the rider's token: %d", code)
	}

	tests := []struct {
		name, method, path, token string
		body                      any
		want                      int
	}{
		{"create without token", "POST", "/orders", "", createBody, 401},
		{"create with expired token", "POST", "/orders", expired, createBody, 401},
		{"create with forged token", "POST", "/orders", forged, createBody, 401},
		{"create with unsigned token", "POST", "/orders", none, createBody, 401},
		{"create with a driver's token", "POST", "/orders", driver, createBody, 403},
		{"create for another rider", "POST", "/orders", token(t, RoleUser, "u2", time.Hour), createBody, 403},
		{"get without token", "GET", "/orders/" + o.OrderID, "", nil, 401},
		{"get as a driver", "GET", "/orders/" + o.OrderID, driver, nil, 200},
		{"get as its rider", "GET", "/orders/" + o.OrderID, rider, nil, 200},
		{"get as another rider", "GET", "/orders/" + o.OrderID, token(t, RoleUser, "u2", time.Hour), nil, 403},
		{"bad body without token", "POST", "/orders", "", "{not json", 401},
		{"accept as another driver", "POST", "/orders/" + o.OrderID + "/accept", driver, map[string]string{"driver_id": "d2"}, 403},
		{"accept as a rider", "POST", "/orders/" + o.OrderID + "/accept", rider, map[string]string{"driver_id": "u1"}, 403},
		{"cancel as a driver", "POST", "/orders/" + o.OrderID + "/cancel", driver, map[string]string{"user_id": "u1"}, 403},
		{"accept as itself", "POST", "/orders/" + o.OrderID + "/accept", driver, map[string]string{"driver_id": "d1"}, 200},
		{"stats need no token", "GET", "/ws/stats", "", nil, 200},
		{"health needs no token", "GET", "/healthz", "", nil, 200},
		{"readiness needs no token", "GET", "/readyz", "", nil, 200},
		{"metrics need no token", "GET", "/metrics", "", nil, 200},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var body errorBody
			out := any(&body)
			if tt.path == "/metrics" {
				out = nil
			}
			code := h.request(t, tt.method, tt.path, tt.token, tt.body, out)
			if code != tt.want {
				t.Fatalf("status %d (%+v), want %d", code, body, tt.want)
			}
			if code >= 400 && (body.Error == "" || body.Detail == "") {
				t.Fatalf("error body %+v lacks error or detail", body)
			}
		})
	}
}

func TestWebSocketAuthentication(t *testing.T) {
	h := startHub(t, Config{AuthSecret: testSecret})
	driver := token(t, RoleDriver, "d1", time.Hour)
	tests := []struct {
		name   string
		path   string
		header string
		want   int // 0: the connection opens
	}{
		{"no token", "/ws/driver/d1", "", 401},
		{"token in query", "/ws/driver/d1?token=" + driver, "", 0},
		{"token in header", "/ws/driver/d1", driver, 0},
		{"someone else's token", "/ws/driver/d2?token=" + driver, "", 403},
		{"driver token on rider feed", "/ws/user/d1?token=" + driver, "", 403},
		{"expired", "/ws/driver/d1?token=" + token(t, RoleDriver, "d1", -time.Second), "", 401},
		{"garbage", "/ws/driver/d1?token=abc.def.ghi", "", 401},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			hdr := http.Header{}
			if tt.header != "" {
				hdr.Set("Authorization", "Bearer "+tt.header)
			}
			c, err := dial(t, h.wsURL(tt.path), hdr)
			if tt.want == 0 {
				if err != nil {
					t.Fatal(err)
				}
				c.next(t, TypeConnected, nil)
				return
			}
			if err == nil || !strings.Contains(err.Error(), "status "+strconv.Itoa(tt.want)) {
				t.Fatalf("dial: err = %v, want status %d", err, tt.want)
			}
		})
	}
}

func TestTokenValidation(t *testing.T) {
	if _, err := contract.NewToken(testSecret, "admin", "x", time.Hour); err == nil {
		t.Error("role admin accepted")
	}
	if _, err := contract.NewToken(testSecret, RoleDriver, "bad id", time.Hour); err == nil {
		t.Error("id with a space accepted")
	}
	if _, err := contract.NewToken("", RoleDriver, "d1", time.Hour); err == nil {
		t.Error("empty secret accepted")
	}
}
