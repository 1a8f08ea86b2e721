package contract

import (
	"math"
	"testing"
)

func TestDistanceM(t *testing.T) {
	tests := []struct {
		name string
		a, b Point
		want float64 // metres, within 0.5
	}{
		{"same point", Point{52.52, 13.405}, Point{52.52, 13.405}, 0},
		// One degree of a meridian: EarthRadiusM × π / 180.
		{"a degree north", Point{10, 20}, Point{11, 20}, EarthRadiusM * math.Pi / 180},
		// Across the antimeridian, the short way.
		{"antimeridian", Point{0, 179.999}, Point{0, -179.999}, EarthRadiusM * 0.002 * math.Pi / 180},
		// Redis: GEODIST of (13.361389 38.115556) and (15.087269 37.502669)
		// is 166274.1516 m.
		{"Palermo to Catania", Point{38.115556, 13.361389}, Point{37.502669, 15.087269}, 166274.1516},
	}
	for _, tt := range tests {
		if got := DistanceM(tt.a, tt.b); math.Abs(got-tt.want) > 0.5 {
			t.Errorf("%s: %v m, want %v", tt.name, got, tt.want)
		}
	}
}

func TestValidateGeo(t *testing.T) {
	for _, p := range []Point{{85.05112878, 0}, {-85.05, 180}, {0, 0}} {
		if err := p.ValidateGeo(); err != nil {
			t.Errorf("%v: %v", p, err)
		}
	}
	for _, p := range []Point{{85.06, 0}, {-90, 0}, {0, 181}, {math.NaN(), 0}} {
		if err := p.ValidateGeo(); err == nil {
			t.Errorf("%v accepted", p)
		}
	}
}
