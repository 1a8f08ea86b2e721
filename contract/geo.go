package contract

import (
	"fmt"
	"math"

	"github.com/golang/geo/s2"
)

// MaxGeoLat bounds, in degrees either side of the equator, the latitude of
// drivers' positions and of the pickups of radius-limited orders: the range
// Redis GEO sets index (EPSG:3857).
const MaxGeoLat = 85.05112878

// EarthRadiusM is the Earth's radius in metres that Redis's GEO commands
// use. Distances measured with it (DistanceM) are the ones the hub decides
// "within radius_m" by, in both modes.
const EarthRadiusM = 6372797.560856

// DistanceM is the great-circle distance between a and b in metres, on a
// sphere of EarthRadiusM (the haversine formula, as Redis GEOSEARCH and
// GEODIST measure).
func DistanceM(a, b Point) float64 {
	d := s2.LatLngFromDegrees(a.Lat, a.Lng).Distance(s2.LatLngFromDegrees(b.Lat, b.Lng))
	return d.Radians() * EarthRadiusM
}

// ValidateGeo returns an error unless p can be a driver's position or the
// pickup of a radius-limited order: a valid point (Validate) whose latitude
// is within MaxGeoLat.
func (p Point) ValidateGeo() error {
	if err := p.Validate(); err != nil {
		return err
	}
	if math.Abs(p.Lat) > MaxGeoLat {
		return fmt.Errorf("lat %v is outside [-%v, %v], the latitudes positions can have", p.Lat, MaxGeoLat, MaxGeoLat)
	}
	return nil
}
