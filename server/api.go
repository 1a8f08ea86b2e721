package server

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"net/http"
	"strings"

	"github.com/taxi-hub/taxi/api"
)

// Handler returns the node's HTTP handler: the order API, the WebSocket
// feeds, and the operational endpoints, behind CORS (see withCORS).
func (s *Server) Handler() http.Handler { return s.handler }

func (s *Server) routes() {
	mux := http.NewServeMux()
	mux.HandleFunc("POST /orders", s.handleCreateOrder)
	mux.HandleFunc("GET /orders", s.handleListOrders)
	mux.HandleFunc("GET /drivers/{driver_id}/order", s.handleDriverOrder)
	mux.HandleFunc("GET /orders/{order_id}", s.handleGetOrder)
	mux.HandleFunc("POST /orders/{order_id}/accept", s.orderAction(RoleDriver, "driver_id", s.acceptOrder))
	mux.HandleFunc("POST /orders/{order_id}/cancel", s.orderAction(RoleUser, "user_id", s.cancelOrder))
	mux.HandleFunc("POST /orders/{order_id}/complete", s.orderAction(RoleDriver, "driver_id", s.completeOrder))
	mux.HandleFunc("POST /drivers/{driver_id}/location", s.handleLocation)
	mux.HandleFunc("GET /drivers/nearby", s.handleNearby)
	mux.HandleFunc("GET /ws/driver/{driver_id}", s.handleFeed(RoleDriver, "driver_id"))
	mux.HandleFunc("GET /ws/user/{user_id}", s.handleFeed(RoleUser, "user_id"))
	mux.HandleFunc("GET /ws/stats", s.handleStats)
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) {
		writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
	})
	mux.HandleFunc("GET /readyz", s.handleReady)
	mux.Handle("GET /metrics", s.metrics.handler())
	docs := api.Handler()
	mux.Handle("GET /openapi.yaml", docs)
	mux.Handle("GET /asyncapi.yaml", docs)
	mux.HandleFunc("/", s.handleNoRoute)
	s.mux = mux
}

// errorBody is the body of every error response.
type errorBody struct {
	Error  string `json:"error"`
	Detail string `json:"detail"`
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

func writeError(w http.ResponseWriter, status int, code, detail string) {
	if status == http.StatusServiceUnavailable || status == http.StatusTooManyRequests {
		w.Header().Set("Retry-After", "1")
	}
	writeJSON(w, status, errorBody{Error: code, Detail: detail})
}

func writeAuthError(w http.ResponseWriter, err error) {
	if errors.Is(err, errForbidden) {
		writeError(w, http.StatusForbidden, "forbidden", err.Error())
		return
	}
	w.Header().Set("WWW-Authenticate", `Bearer realm="taxi"`)
	writeError(w, http.StatusUnauthorized, "unauthorized", err.Error())
}

// writeOpError answers an order operation's error with the status and code
// of errcodes.go. An internal error's text stays in the log.
func (s *Server) writeOpError(w http.ResponseWriter, r *http.Request, err error) {
	status, code, reason := codeFor(err)
	detail := err.Error()
	if status == http.StatusInternalServerError {
		s.log.Error("order request failed", "method", r.Method, "path", r.URL.Path, "err", err)
		detail = reason
	}
	writeError(w, status, code, detail)
}

// caller checks that the request acts as id and is within its rate; it
// writes the error response itself and reports false on failure.
func (s *Server) caller(w http.ResponseWriter, r *http.Request, role Role, field, id string) bool {
	if !checkID(w, field, id) {
		return false
	}
	if err := s.auth.check(r, role, id); err != nil {
		writeAuthError(w, err)
		return false
	}
	return s.allowCaller(w, Claims{}, role, id)
}

func orderIDFrom(w http.ResponseWriter, r *http.Request) (string, bool) {
	id := r.PathValue("order_id")
	return id, checkID(w, "order_id", id)
}

// PointInput is a point in a request body; both fields are required, so a
// missing one is told apart from 0.
type PointInput struct {
	Lat *float64 `json:"lat"`
	Lng *float64 `json:"lng"`
}

// CreateOrderRequest is the body of POST /orders. RadiusM and MaxDrivers
// are numbers as sent, checked by the handler.
type CreateOrderRequest struct {
	UserID     string      `json:"user_id"`
	Pickup     *PointInput `json:"pickup"`
	Dropoff    *PointInput `json:"dropoff"`
	RadiusM    *float64    `json:"radius_m"`
	MaxDrivers *float64    `json:"max_drivers"`
}

func (p *PointInput) point(name string) (Point, string, string) {
	if p == nil || p.Lat == nil || p.Lng == nil {
		return Point{}, "missing_field", name + " needs lat and lng"
	}
	pt := Point{Lat: *p.Lat, Lng: *p.Lng}
	if err := pt.Validate(); err != nil {
		return Point{}, "invalid_point", name + ": " + err.Error()
	}
	return pt, "", ""
}

// authenticated checks that r carries a valid token before its body is
// read, so an anonymous caller learns nothing about the API but 401.
func (s *Server) authenticated(w http.ResponseWriter, r *http.Request) (Claims, bool) {
	claims, err := s.auth.identify(r)
	if err != nil {
		writeAuthError(w, err)
		return Claims{}, false
	}
	return claims, true
}

func requireField(w http.ResponseWriter, name, v string) bool {
	if v == "" {
		writeError(w, http.StatusBadRequest, "missing_field", name+" is required")
		return false
	}
	return true
}

func (s *Server) handleCreateOrder(w http.ResponseWriter, r *http.Request) {
	if _, ok := s.authenticated(w, r); !ok {
		return
	}
	obj, ok := s.readBody(w, r)
	if !ok {
		return
	}
	req, ierr := decodeCreateOrder(obj)
	if !writeInputError(w, ierr) || !requireField(w, "user_id", req.UserID) {
		return
	}
	want, ierr := s.orderRequest(req)
	if !writeInputError(w, ierr) || !s.caller(w, r, RoleUser, "user_id", req.UserID) {
		return
	}
	if keys, ok := r.Header["Idempotency-Key"]; ok {
		s.createOrderOnce(w, r, keys[0], want)
		return
	}
	o, err := s.placeOrder(r.Context(), want)
	if err != nil {
		s.writeOpError(w, r, err)
		return
	}
	writeJSON(w, http.StatusCreated, o)
}

// orderRequest checks the points and the dispatch of a create request, in
// the documented order: pickup, dropoff, radius_m, max_drivers.
func (s *Server) orderRequest(req CreateOrderRequest) (orderRequest, *inputError) {
	out := orderRequest{userID: req.UserID}
	var code, detail string
	if out.pickup, code, detail = req.Pickup.point("pickup"); code != "" {
		return out, &inputError{Code: code, Detail: detail}
	}
	if out.dropoff, code, detail = req.Dropoff.point("dropoff"); code != "" {
		return out, &inputError{Code: code, Detail: detail}
	}
	if req.RadiusM != nil {
		if r := *req.RadiusM; !(r > 0 && r <= MaxRadiusM) {
			return out, &inputError{Code: "invalid_radius", Detail: fmt.Sprintf("radius_m must be a number of metres above 0 and at most %d", MaxRadiusM)}
		}
		out.radiusM = *req.RadiusM
	}
	if req.MaxDrivers != nil {
		n := *req.MaxDrivers
		if n < 1 || n != math.Trunc(n) || n > math.MaxInt32 {
			return out, &inputError{Code: "invalid_max_drivers", Detail: "max_drivers must be an integer above 0"}
		}
		out.maxDrivers = int(n)
	}
	radius := cmp.Or(out.radiusM, s.cfg.DispatchRadius)
	if out.maxDrivers > 0 && radius == 0 {
		return out, &inputError{Code: "invalid_max_drivers", Detail: "max_drivers needs radius_m, or a node started with --dispatch-radius"}
	}
	if radius > 0 {
		if err := checkGeoPoint(out.pickup); err != nil {
			return out, &inputError{Code: "invalid_point", Detail: "pickup: " + err.Error()}
		}
	}
	return out, nil
}

// handleGetOrder serves drivers any order (they choose among them) and
// riders only their own.
func (s *Server) handleGetOrder(w http.ResponseWriter, r *http.Request) {
	id, ok := orderIDFrom(w, r)
	if !ok {
		return
	}
	s.serveOrder(w, r, func(ctx context.Context) (Order, error) { return s.orderWithViewers(ctx, id) })
}

// orderAction serves a POST /orders/{order_id}/... that a driver or a
// rider, named by the body's one member field, takes on an order: accept
// (driver_id), cancel (user_id), complete (driver_id). It answers 200 with
// the order as op left it.
func (s *Server) orderAction(role Role, field string, op func(ctx context.Context, orderID, callerID string) (Order, error)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		id, ok := orderIDFrom(w, r)
		if !ok {
			return
		}
		if _, ok := s.authenticated(w, r); !ok {
			return
		}
		callerID, ok := s.readIDBody(w, r, field)
		if !ok || !s.caller(w, r, role, field, callerID) {
			return
		}
		o, err := op(r.Context(), id, callerID)
		if err != nil {
			s.writeOpError(w, r, err)
			return
		}
		writeJSON(w, http.StatusOK, o)
	}
}

func (s *Server) handleStats(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, s.stats(r.Context()))
}

func (s *Server) handleReady(w http.ResponseWriter, _ *http.Request) {
	if !s.ready.Load() {
		writeError(w, http.StatusServiceUnavailable, "shutting_down", "this node is shutting down")
		return
	}
	writeJSON(w, http.StatusOK, map[string]string{"status": "ready", "mode": s.mode()})
}

// handleNoRoute answers every request no route matched: 405 when the path
// exists for another method, 404 otherwise, both in the API's error shape.
func (s *Server) handleNoRoute(w http.ResponseWriter, r *http.Request) {
	var allowed []string
	for _, m := range []string{http.MethodGet, http.MethodPost} {
		if m == r.Method {
			continue
		}
		probe := r.Clone(r.Context())
		probe.Method = m
		if _, pattern := s.mux.Handler(probe); pattern != "/" && pattern != "" {
			allowed = append(allowed, m)
		}
	}
	if len(allowed) > 0 {
		w.Header().Set("Allow", strings.Join(allowed, ", "))
		writeError(w, http.StatusMethodNotAllowed, "method_not_allowed", r.Method+" is not allowed on "+r.URL.Path)
		return
	}
	writeError(w, http.StatusNotFound, "not_found", "no route for "+r.Method+" "+r.URL.Path)
}
