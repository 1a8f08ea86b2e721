package server

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/coder/websocket"
	"golang.org/x/time/rate"
)

// maxViewsPerConn bounds the orders one connection views at once, and so
// the memory a client can make the node hold for it.
const maxViewsPerConn = 100

// handleFeed serves GET /ws/driver/{driver_id} and GET /ws/user/{user_id}:
// it checks the request, upgrades it, registers the connection and hands it
// to serveClient.
func (s *Server) handleFeed(role Role, param string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		id := r.PathValue(param)
		if !ValidID(id) {
			s.refuseFeed(w, r, role, id, refusedInvalidID, param+" must be 1 to 64 characters of [A-Za-z0-9_-]", nil)
			return
		}
		if !originAllowed(r, s.cfg.OriginPatterns) {
			s.refuseFeed(w, r, role, id, refusedOrigin, fmt.Sprintf("origin %.80q is not allowed; see --allowed-origins", r.Header.Get("Origin")), nil)
			return
		}
		if err := s.auth.check(r, role, id); err != nil {
			why, detail := authRefusal(err)
			s.refuseFeed(w, r, role, id, why, detail, err)
			return
		}
		if !s.ready.Load() {
			s.refuseFeed(w, r, role, id, refusedShuttingDown, "this node is shutting down; connect to another", nil)
			return
		}
		if max := s.cfg.MaxConns; max > 0 && s.hub.drivers.Load()+s.hub.users.Load() >= int64(max) {
			s.refuseFeed(w, r, role, id, refusedAtCapacity, "this node holds its maximum of connections; connect to another", nil)
			return
		}
		sb := &smallBuffers{ResponseWriter: w}
		conn, err := websocket.Accept(sb, r, &websocket.AcceptOptions{
			OriginPatterns:  s.cfg.OriginPatterns,
			CompressionMode: websocket.CompressionDisabled,
		})
		if err != nil {
			s.log.Debug("websocket accept", "err", err)
			return
		}
		conn.SetReadLimit(s.cfg.ReadLimit)
		// The connection outlives the request: its context keeps nothing of
		// the request's, so the request can be collected.
		ctx, cancel := context.WithCancel(context.Background())
		c := &client{
			role:    role,
			id:      id,
			conn:    conn,
			sock:    sb.sock,
			hub:     s.hub,
			ctx:     ctx,
			cancel:  cancel,
			held:    true,
			limiter: rate.NewLimiter(rate.Limit(s.cfg.MsgRate), s.cfg.MsgBurst),
		}
		if !s.hub.register(c) {
			s.refuseUpgraded(r, conn, role, id)
			cancel()
			return
		}
		s.presence.touch(role, id)
		if !s.greeter.greet(c, r.URL.Query().Get("since")) {
			s.disconnect(c, reasonGreetFailed)
			s.hub.gate.exit()
			return
		}
		// The connection's frames are read on a goroutine of its own and
		// the handler returns: the HTTP server's goroutine, with the stack
		// it grew parsing the request and encoding the first frame, ends,
		// and the request can be collected. A fresh goroutine parked in a
		// read needs only a small stack: most of an idle driver's memory
		// was that stack and the request. It takes over the gate's count
		// that register took.
		go s.serveClient(c)
	}
}

// serveClient reads the client's frames until the connection ends, then
// cleans up after it. It owns the gate's count that register took.
func (s *Server) serveClient(c *client) {
	defer s.hub.gate.exit()
	s.disconnect(c, s.readLoop(c))
}

// readLoop handles the client's frames until the connection ends, and
// returns why it ended as far as the reader can tell.
func (s *Server) readLoop(c *client) closeReason {
	for {
		typ, data, err := c.conn.Read(c.ctx)
		if err != nil {
			if strings.Contains(err.Error(), "read limited at") {
				return reasonTooBig
			}
			return reasonClientClosed
		}
		if typ != websocket.MessageText {
			s.counters.badFrames.Add(1)
			return reasonBadFrame
		}
		if !c.limiter.Allow() {
			s.counters.rateLimited.Add(1)
			c.send(encodeFrame(TypeError, ErrorMessage{Code: "rate_limited", Reason: "too many frames; slow down"}))
			continue
		}
		in, ferr := decodeInbound(data)
		if ferr == nil && c.role != RoleDriver {
			ferr = &frameError{Code: "unknown_type", Reason: "riders send no frames", Type: in.Type}
		}
		if ferr != nil {
			s.counters.badFrames.Add(1)
			c.send(encodeFrame(TypeError, ErrorMessage{Code: ferr.Code, Reason: ferr.Reason, Type: ferr.Type}))
			continue
		}
		s.handleDriverFrame(c, in)
	}
}

func (s *Server) handleDriverFrame(c *client, in inbound) {
	ctx, cancel := context.WithTimeout(c.ctx, 10*time.Second)
	defer cancel()
	switch in.Type {
	case TypeViewOrder:
		if _, ok := c.viewing[in.OrderID]; !ok && len(c.viewing) >= maxViewsPerConn {
			c.send(encodeFrame(TypeError, ErrorMessage{Code: "too_many_views", Reason: fmt.Sprintf("a connection may view at most %d orders at once; unview some first", maxViewsPerConn), Type: in.Type}))
			return
		}
		if err := s.viewOrder(ctx, in.OrderID, c.id); err != nil {
			_, code, reason := codeFor(err)
			c.send(encodeFrame(TypeError, ErrorMessage{Code: code, Reason: reason, Type: in.Type}))
			return
		}
		c.viewing[in.OrderID] = struct{}{}
	case TypeUnviewOrder:
		delete(c.viewing, in.OrderID)
		if err := s.unviewOrder(ctx, in.OrderID, c.id); err != nil {
			_, code, reason := codeFor(err)
			c.send(encodeFrame(TypeError, ErrorMessage{Code: code, Reason: reason, Type: in.Type}))
		}
	case TypeLocation:
		if err := s.recordPosition(ctx, c.id, in.Location); err != nil {
			_, code, reason := codeFor(err)
			c.send(encodeFrame(TypeError, ErrorMessage{Code: code, Reason: reason, Type: in.Type}))
		}
	case TypeAcceptOrder:
		_, err := s.acceptOrder(ctx, in.OrderID, c.id)
		res := AcceptResultMessage{OrderID: in.OrderID, Accepted: err == nil}
		if err != nil {
			_, res.Reason, _ = codeFor(err)
		}
		if err == nil {
			delete(c.viewing, in.OrderID)
		}
		c.send(encodeFrame(TypeAcceptResult, res))
	}
}

// disconnect is the reader's cleanup: the connection ends (for reason,
// unless it ended already), leaves the registry, presence and the viewers of
// the orders it viewed.
func (s *Server) disconnect(c *client, reason closeReason) {
	c.end(reason)
	s.hub.unregister(c)
	s.presence.touch(c.role, c.id)
	if len(c.viewing) == 0 {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	for orderID := range c.viewing {
		if err := s.unviewOrder(ctx, orderID, c.id); err != nil {
			s.log.Debug("unview on disconnect", "order_id", orderID, "driver_id", c.id, "err", err)
		}
	}
}
