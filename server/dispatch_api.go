package server

import (
	"fmt"
	"net/http"
	"strconv"
	"time"
)

// Page sizes of GET /drivers/nearby.
const (
	defaultNearbyLimit = 100
	maxNearbyLimit     = 1000
)

// NearbyList is the body of GET /drivers/nearby: drivers nearest first.
type NearbyList struct {
	Drivers []NearbyDriver `json:"drivers"`
}

// handleLocation serves POST /drivers/{driver_id}/location: the driver's
// position, as a location frame would send it. 204 on success.
func (s *Server) handleLocation(w http.ResponseWriter, r *http.Request) {
	driverID := r.PathValue("driver_id")
	if !checkID(w, "driver_id", driverID) {
		return
	}
	if _, ok := s.authenticated(w, r); !ok {
		return
	}
	obj, ok := s.readBody(w, r)
	if !ok {
		return
	}
	loc, ierr := decodeLocation(obj, "")
	if !writeInputError(w, ierr) || !s.caller(w, r, RoleDriver, "driver_id", driverID) {
		return
	}
	if err := s.recordPosition(r.Context(), driverID, loc); err != nil {
		s.writeOpError(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// handleNearby serves GET /drivers/nearby?lat=&lng=&radius_m=&limit=: the
// drivers with a current position within radius_m metres of the point,
// nearest first. With authentication only a dispatcher may ask: drivers'
// ids and positions are not for riders or other drivers.
func (s *Server) handleNearby(w http.ResponseWriter, r *http.Request) {
	claims, ok := s.authenticated(w, r)
	if !ok {
		return
	}
	if !s.auth.insecure && claims.Role != RoleDispatcher {
		writeError(w, http.StatusForbidden, "forbidden", "only a dispatcher's token may list drivers near a point")
		return
	}
	q := r.URL.Query()
	var nums [3]float64
	for i, name := range []string{"lat", "lng", "radius_m"} {
		v := q.Get(name)
		if !requireField(w, name, v) {
			return
		}
		f, err := strconv.ParseFloat(v, 64)
		if err != nil {
			code := "invalid_point"
			if name == "radius_m" {
				code = "invalid_radius"
			}
			writeError(w, http.StatusBadRequest, code, name+" must be a number")
			return
		}
		nums[i] = f
	}
	p, radius := Point{Lat: nums[0], Lng: nums[1]}, nums[2]
	if err := checkGeoPoint(p); err != nil {
		writeError(w, http.StatusBadRequest, "invalid_point", err.Error())
		return
	}
	if !(radius > 0 && radius <= MaxRadiusM) {
		writeError(w, http.StatusBadRequest, "invalid_radius", fmt.Sprintf("radius_m must be a number of metres above 0 and at most %d", MaxRadiusM))
		return
	}
	limit := defaultNearbyLimit
	if v := q.Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > maxNearbyLimit {
			writeError(w, http.StatusBadRequest, "invalid_limit", fmt.Sprintf("limit must be an integer from 1 to %d", maxNearbyLimit))
			return
		}
		limit = n
	}
	if !s.allowCaller(w, claims, RoleDispatcher, "dispatcher") {
		return
	}
	b := s.backends.current()
	if b.partial {
		s.writeOpError(w, r, fmt.Errorf("drivers near %v while redis is away: %w", p, ErrDegraded))
		return
	}
	near, err := b.locations.Nearby(r.Context(), p, radius, limit, time.Now().Add(-s.cfg.LocationTTL))
	if err != nil {
		s.writeOpError(w, r, fmt.Errorf("drivers near %v: %w", p, s.observed(b, err)))
		return
	}
	if near == nil {
		near = []NearbyDriver{}
	}
	writeJSON(w, http.StatusOK, NearbyList{Drivers: near})
}
