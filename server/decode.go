package server

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"net/http"
)

// Request bodies and client frames are read the same strict way: the input
// is one JSON object, members are found by their exact key (a key that
// differs in case is another, unknown key), unknown keys are ignored, a key
// given twice is refused, and every fault is told in the API's terms: the
// field's name and the JSON kind it must have, never a Go type.

// inputError is a fault in a request body or a frame: the API's error code
// (invalid_json, missing_field, invalid_id, invalid_point) and a detail for
// humans.
type inputError struct {
	Code   string
	Detail string
}

func (e *inputError) Error() string { return e.Code + ": " + e.Detail }

func invalidJSON(format string, args ...any) *inputError {
	return &inputError{Code: "invalid_json", Detail: fmt.Sprintf(format, args...)}
}

// jsonObject is one JSON object: its members' raw values by exact key.
type jsonObject map[string]json.RawMessage

// parseObject reads data as exactly one JSON object. what names the input in
// details ("request body", "frame").
func parseObject(data []byte, what string) (jsonObject, *inputError) {
	dec := json.NewDecoder(bytes.NewReader(data))
	tok, err := dec.Token()
	if errors.Is(err, io.EOF) {
		return nil, invalidJSON("%s is empty", what)
	}
	if err != nil {
		return nil, syntaxError(what, err)
	}
	if tok != json.Delim('{') {
		return nil, invalidJSON("%s must be a JSON object, not %s", what, tokenKind(tok))
	}
	obj := make(jsonObject)
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return nil, syntaxError(what, err)
		}
		key, _ := tok.(string) // inside an object, the decoder yields only string keys here
		var raw json.RawMessage
		if err := dec.Decode(&raw); err != nil {
			return nil, syntaxError(what, err)
		}
		if _, dup := obj[key]; dup {
			return nil, invalidJSON("%s has the key %.64q more than once", what, key)
		}
		obj[key] = raw
	}
	if _, err := dec.Token(); err != nil {
		return nil, syntaxError(what, err)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return nil, invalidJSON("%s has data after the JSON object", what)
	}
	return obj, nil
}

// syntaxError describes malformed JSON by its position, not by the parser's
// wording.
func syntaxError(what string, err error) *inputError {
	var se *json.SyntaxError
	switch {
	case errors.As(err, &se):
		return invalidJSON("%s is not valid JSON (at byte %d)", what, se.Offset)
	case errors.Is(err, io.ErrUnexpectedEOF), errors.Is(err, io.EOF):
		return invalidJSON("%s is not valid JSON: it ends too soon", what)
	default:
		return invalidJSON("%s is not valid JSON", what)
	}
}

// tokenKind names the JSON kind of a token that opens a value.
func tokenKind(tok json.Token) string {
	switch v := tok.(type) {
	case nil:
		return "null"
	case bool:
		return "a boolean"
	case float64, json.Number:
		return "a number"
	case string:
		return "a string"
	case json.Delim:
		if v == '[' {
			return "an array"
		}
		return "an object"
	}
	return "a value"
}

// kindOf names the JSON kind of a raw value.
func kindOf(raw json.RawMessage) string {
	tok, err := json.NewDecoder(bytes.NewReader(raw)).Token()
	if err != nil {
		return "a value"
	}
	return tokenKind(tok)
}

func isNull(raw json.RawMessage) bool { return raw == nil || bytes.Equal(raw, []byte("null")) }

// str returns the string member key; present is false when it is absent or
// null. path names it in details ("user_id", "message.order_id").
func (o jsonObject) str(key, path string) (s string, present bool, ierr *inputError) {
	raw := o[key]
	if isNull(raw) {
		return "", false, nil
	}
	if err := json.Unmarshal(raw, &s); err != nil {
		return "", false, invalidJSON("%s must be a string, not %s", path, kindOf(raw))
	}
	return s, true, nil
}

// object returns the object member key; present is false when it is absent
// or null.
func (o jsonObject) object(key, path string) (obj jsonObject, present bool, ierr *inputError) {
	raw := o[key]
	if isNull(raw) {
		return nil, false, nil
	}
	if raw[0] != '{' {
		return nil, false, invalidJSON("%s must be an object, not %s", path, kindOf(raw))
	}
	obj, ierr = parseObject(raw, path)
	if ierr != nil {
		return nil, false, ierr
	}
	return obj, true, nil
}

// number returns the number member key; present is false when it is absent
// or null.
func (o jsonObject) number(key, path string) (f float64, present bool, ierr *inputError) {
	raw := o[key]
	if isNull(raw) {
		return 0, false, nil
	}
	c := raw[0]
	if c != '-' && (c < '0' || c > '9') {
		return 0, false, invalidJSON("%s must be a number, not %s", path, kindOf(raw))
	}
	if err := json.Unmarshal(raw, &f); err != nil || math.IsInf(f, 0) {
		return 0, false, invalidJSON("%s is a number too large to use", path)
	}
	return f, true, nil
}

// decodeCreateOrder reads the body of POST /orders. It checks kinds only;
// the handler checks what is missing or out of range, in the documented
// order.
func decodeCreateOrder(obj jsonObject) (CreateOrderRequest, *inputError) {
	var req CreateOrderRequest
	var ierr *inputError
	if req.UserID, _, ierr = obj.str("user_id", "user_id"); ierr != nil {
		return req, ierr
	}
	if req.Pickup, ierr = decodePoint(obj, "pickup"); ierr != nil {
		return req, ierr
	}
	if req.Dropoff, ierr = decodePoint(obj, "dropoff"); ierr != nil {
		return req, ierr
	}
	if req.RadiusM, ierr = optionalNumber(obj, "radius_m"); ierr != nil {
		return req, ierr
	}
	req.MaxDrivers, ierr = optionalNumber(obj, "max_drivers")
	return req, ierr
}

// optionalNumber reads the number member key; nil when it is absent or
// null.
func optionalNumber(obj jsonObject, key string) (*float64, *inputError) {
	f, present, ierr := obj.number(key, key)
	if ierr != nil || !present {
		return nil, ierr
	}
	return &f, nil
}

// decodeLocation reads a driver's position from obj, the body of POST
// /drivers/{driver_id}/location or a location frame's message (prefix
// "message."): lat and lng are required, heading and speed_mps optional,
// and the position must be one a GEO set can hold (see checkGeoPoint).
func decodeLocation(obj jsonObject, prefix string) (LocationMessage, *inputError) {
	var loc LocationMessage
	var got [4]*float64
	for i, name := range []string{"lat", "lng", "heading", "speed_mps"} {
		f, ok, ierr := obj.number(name, prefix+name)
		if ierr != nil {
			return loc, ierr
		}
		if ok {
			got[i] = &f
		}
	}
	if got[0] == nil || got[1] == nil {
		return loc, &inputError{Code: "missing_field", Detail: prefix + "lat and " + prefix + "lng are required"}
	}
	loc.Lat, loc.Lng, loc.Heading, loc.SpeedMPS = *got[0], *got[1], got[2], got[3]
	if err := checkGeoPoint(Point{Lat: loc.Lat, Lng: loc.Lng}); err != nil {
		return loc, &inputError{Code: "invalid_point", Detail: "position: " + err.Error()}
	}
	if h := loc.Heading; h != nil && !(*h >= 0 && *h < 360) {
		return loc, &inputError{Code: "invalid_point", Detail: prefix + "heading must be degrees in [0, 360)"}
	}
	if v := loc.SpeedMPS; v != nil && !(*v >= 0) {
		return loc, &inputError{Code: "invalid_point", Detail: prefix + "speed_mps must be metres per second, 0 or more"}
	}
	return loc, nil
}

// decodePoint reads the point member key; nil when it is absent or null.
func decodePoint(obj jsonObject, key string) (*PointInput, *inputError) {
	pt, present, ierr := obj.object(key, key)
	if ierr != nil || !present {
		return nil, ierr
	}
	var p PointInput
	for _, c := range []struct {
		name string
		dst  **float64
	}{{"lat", &p.Lat}, {"lng", &p.Lng}} {
		f, ok, ierr := pt.number(c.name, key+"."+c.name)
		if ierr != nil {
			return nil, ierr
		}
		if ok {
			*c.dst = &f
		}
	}
	return &p, nil
}

// readBody reads a JSON body of at most cfg.BodyLimit bytes as one object
// (see parseObject). It writes the error response itself and reports false
// on failure.
func (s *Server) readBody(w http.ResponseWriter, r *http.Request) (jsonObject, bool) {
	r.Body = http.MaxBytesReader(w, r.Body, s.cfg.BodyLimit)
	data, err := io.ReadAll(r.Body)
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			writeError(w, http.StatusRequestEntityTooLarge, "body_too_large", fmt.Sprintf("request body exceeds %d bytes", s.cfg.BodyLimit))
		} else {
			writeError(w, http.StatusBadRequest, "invalid_json", "request body could not be read")
		}
		return nil, false
	}
	obj, ierr := parseObject(data, "request body")
	return obj, writeInputError(w, ierr)
}

// writeInputError writes ierr as a 400 when it is not nil, and reports
// whether the request may go on.
func writeInputError(w http.ResponseWriter, ierr *inputError) bool {
	if ierr != nil {
		writeError(w, http.StatusBadRequest, ierr.Code, ierr.Detail)
		return false
	}
	return true
}

// readIDBody reads a body whose one member is the id key, as the accept
// (driver_id) and cancel (user_id) calls have, and checks it is present. It
// writes the error response itself and reports false on failure.
func (s *Server) readIDBody(w http.ResponseWriter, r *http.Request, key string) (string, bool) {
	obj, ok := s.readBody(w, r)
	if !ok {
		return "", false
	}
	id, _, ierr := obj.str(key, key)
	return id, writeInputError(w, ierr) && requireField(w, key, id)
}
