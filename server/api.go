package server

import (
	"context"
	"encoding/json"
	"errors"
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
	mux.HandleFunc("POST /orders/{order_id}/accept", s.handleAcceptOrder)
	mux.HandleFunc("POST /orders/{order_id}/cancel", s.handleCancelOrder)
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

// CreateOrderRequest is the body of POST /orders.
type CreateOrderRequest struct {
	UserID  string      `json:"user_id"`
	Pickup  *PointInput `json:"pickup"`
	Dropoff *PointInput `json:"dropoff"`
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
	pickup, code, detail := req.Pickup.point("pickup")
	if code == "" {
		var dropoff Point
		if dropoff, code, detail = req.Dropoff.point("dropoff"); code == "" {
			if !s.caller(w, r, RoleUser, "user_id", req.UserID) {
				return
			}
			if keys, ok := r.Header["Idempotency-Key"]; ok {
				s.createOrderOnce(w, r, keys[0], req.UserID, pickup, dropoff)
				return
			}
			o, err := s.createOrder(r.Context(), req.UserID, pickup, dropoff)
			if err != nil {
				s.writeOpError(w, r, err)
				return
			}
			writeJSON(w, http.StatusCreated, o)
			return
		}
	}
	writeError(w, http.StatusBadRequest, code, detail)
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

func (s *Server) handleAcceptOrder(w http.ResponseWriter, r *http.Request) {
	id, ok := orderIDFrom(w, r)
	if !ok {
		return
	}
	if _, ok := s.authenticated(w, r); !ok {
		return
	}
	driverID, ok := s.readIDBody(w, r, "driver_id")
	if !ok || !s.caller(w, r, RoleDriver, "driver_id", driverID) {
		return
	}
	o, err := s.acceptOrder(r.Context(), id, driverID)
	if err != nil {
		s.writeOpError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, o)
}

func (s *Server) handleCancelOrder(w http.ResponseWriter, r *http.Request) {
	id, ok := orderIDFrom(w, r)
	if !ok {
		return
	}
	if _, ok := s.authenticated(w, r); !ok {
		return
	}
	userID, ok := s.readIDBody(w, r, "user_id")
	if !ok || !s.caller(w, r, RoleUser, "user_id", userID) {
		return
	}
	o, err := s.cancelOrder(r.Context(), id, userID)
	if err != nil {
		s.writeOpError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, o)
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
