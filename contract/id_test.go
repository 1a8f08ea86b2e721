package contract

import (
	"math"
	"strings"
	"testing"
)

func TestValidID(t *testing.T) {
	tests := []struct {
		id   string
		want bool
	}{
		{"d1", true},
		{"A-z_09", true},
		{strings.Repeat("x", 64), true},
		{"", false},
		{strings.Repeat("x", 65), false},
		{"a:b", false},  // a key separator
		{"{a}", false},  // a Cluster hash tag
		{"a*", false},   // a SCAN wildcard
		{"a b", false},  // a space
		{"café", false}, // not ASCII
	}
	for _, tt := range tests {
		if got := ValidID(tt.id); got != tt.want {
			t.Errorf("ValidID(%q) = %v, want %v", tt.id, got, tt.want)
		}
	}
}

func TestRoleAndStatusValid(t *testing.T) {
	if !RoleDriver.Valid() || !RoleUser.Valid() || !RoleDispatcher.Valid() || Role("admin").Valid() || Role("").Valid() {
		t.Error("Role.Valid accepts something other than driver, user and dispatcher")
	}
	if !RoleDriver.HasFeed() || !RoleUser.HasFeed() || RoleDispatcher.HasFeed() {
		t.Error("Role.HasFeed is not true for drivers and riders only")
	}
	if string(RoleDispatcher) != "dispatcher" {
		t.Errorf("RoleDispatcher = %q", RoleDispatcher)
	}
	for _, s := range []Status{StatusOpen, StatusAccepted, StatusCancelled, StatusCompleted} {
		if !s.Valid() {
			t.Errorf("%q is not Valid", s)
		}
	}
	if Status("closed").Valid() || Status("").Valid() {
		t.Error("Status.Valid accepts an unknown status")
	}
}

func TestPointValidate(t *testing.T) {
	tests := []struct {
		p       Point
		wantErr string // "" for a valid point
	}{
		{Point{52.52, 13.405}, ""},
		{Point{-90, -180}, ""},
		{Point{90, 180}, ""},
		{Point{90.0001, 0}, "lat 90.0001 is outside [-90, 90]"},
		{Point{0, -180.5}, "lng -180.5 is outside [-180, 180]"},
		{Point{math.NaN(), 0}, "lat NaN is outside [-90, 90]"},
		{Point{0, math.Inf(1)}, "lng +Inf is outside [-180, 180]"},
	}
	for _, tt := range tests {
		err := tt.p.Validate()
		switch {
		case tt.wantErr == "" && err != nil:
			t.Errorf("%v.Validate() = %v, want nil", tt.p, err)
		case tt.wantErr != "" && (err == nil || err.Error() != tt.wantErr):
			t.Errorf("%v.Validate() = %v, want %q", tt.p, err, tt.wantErr)
		}
	}
}
