package server

import (
	"context"
	"math"
	"time"

	"github.com/golang/geo/s1"
	"github.com/taxi-hub/taxi/contract"
)

// LocationStore keeps each driver's last position and finds drivers near a
// point. A position counts while it is younger than the location TTL: the
// callers pass the cutoff (since), and Trim forgets what is older.
type LocationStore interface {
	// Update records driverID at p, as reported at at, replacing its
	// previous position.
	Update(ctx context.Context, driverID string, p Point, at time.Time) error
	// Nearby returns the drivers whose position was updated at or after
	// since and lies within radiusM metres of p by great-circle distance,
	// nearest first, at most limit of them (all when limit <= 0). p's
	// latitude must be within MaxGeoLat.
	Nearby(ctx context.Context, p Point, radiusM float64, limit int, since time.Time) ([]NearbyDriver, error)
	// Trim forgets the positions updated before cutoff and returns how
	// many it forgot.
	Trim(ctx context.Context, cutoff time.Time) (int, error)
	// Count returns how many drivers have a position updated at or after
	// since.
	Count(ctx context.Context, since time.Time) (int64, error)
	// Track reports whether a position of the driver of orderID may go to
	// the order's rider now: true at most once per every for one order,
	// whichever node asks.
	Track(ctx context.Context, orderID string, every time.Duration) (bool, error)
}

// NearbyDriver is a driver found near a point: an element of GET
// /drivers/nearby's answer. DistanceM is in metres from the point asked
// about; UpdatedAt is when the position was reported.
type NearbyDriver struct {
	DriverID  string    `json:"driver_id"`
	Lat       float64   `json:"lat"`
	Lng       float64   `json:"lng"`
	DistanceM float64   `json:"distance_m"`
	UpdatedAt time.Time `json:"updated_at"`
}

// MaxGeoLat bounds the latitude of positions and of the pickups of
// radius-limited orders; see contract.
const MaxGeoLat = contract.MaxGeoLat

// checkGeoPoint returns an error unless p can be a position; see
// contract.Point.ValidateGeo.
func checkGeoPoint(p Point) error { return p.ValidateGeo() }

// distanceM is the great-circle distance between a and b in metres, as the
// hub decides "within a radius"; see contract.DistanceM.
func distanceM(a, b Point) float64 { return contract.DistanceM(a, b) }

// boundingBox returns, for a circle of radiusM metres around p, the largest
// latitude and longitude differences in degrees that a point inside it can
// have: a cheap test that rules out most points before distanceM.
func boundingBox(p Point, radiusM float64) (dLat, dLng float64) {
	dLat = (s1.Angle(radiusM/contract.EarthRadiusM) * s1.Radian).Degrees()
	cos := math.Cos((s1.Angle(math.Abs(p.Lat)+dLat) * s1.Degree).Radians())
	if cos <= 0 || dLat >= 90 {
		return 180, 360
	}
	return dLat, math.Min(dLat/cos, 360)
}

// lngDelta is the difference between two longitudes in degrees, across the
// antimeridian when that is shorter.
func lngDelta(a, b float64) float64 {
	d := math.Abs(a - b)
	if d > 180 {
		d = 360 - d
	}
	return d
}
