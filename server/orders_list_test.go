package server

import (
	"fmt"
	"net/http"
	"slices"
	"testing"
	"time"

	"github.com/taxi-hub/taxi/internal/redistest"
)

// listAll follows next_cursor from the first page of size limit and returns
// every order id in the order listed.
func listAll(t *testing.T, h *testHub, token, userID string, limit int) ([]string, map[string]Status) {
	t.Helper()
	var ids []string
	status := map[string]Status{}
	path := fmt.Sprintf("/orders?user_id=%s&limit=%d", userID, limit)
	for range 50 {
		var page OrderList
		if code := h.request(t, "GET", path, token, nil, &page); code != http.StatusOK {
			t.Fatalf("GET %s: %d", path, code)
		}
		if len(page.Orders) > limit {
			t.Fatalf("page of %d orders, limit %d", len(page.Orders), limit)
		}
		for _, o := range page.Orders {
			ids = append(ids, o.OrderID)
			status[o.OrderID] = o.Status
		}
		if page.NextCursor == "" {
			return ids, status
		}
		path = fmt.Sprintf("/orders?user_id=%s&limit=%d&before=%s", userID, limit, page.NextCursor)
	}
	t.Fatal("more than 50 pages")
	return nil, nil
}

func TestListOrdersAndDriverOrder(t *testing.T) {
	h := startHub(t, Config{})
	var created []Order
	for range 5 {
		created = append(created, h.createOrder(t, "u1"))
	}
	slices.SortFunc(created, newestFirst)
	var want []string
	for _, o := range created {
		want = append(want, o.OrderID)
	}
	h.createOrder(t, "u2")
	h.request(t, "POST", "/orders/"+want[1]+"/accept", "", map[string]string{"driver_id": "d1"}, nil)
	h.request(t, "POST", "/orders/"+want[2]+"/cancel", "", map[string]string{"user_id": "u1"}, nil)

	got, status := listAll(t, h, "", "u1", 2)
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("listed %v, want newest first %v", got, want)
	}
	if status[want[1]] != StatusAccepted || status[want[2]] != StatusCancelled || status[want[0]] != StatusOpen {
		t.Fatalf("statuses %v", status)
	}
	var page OrderList
	if code := h.request(t, "GET", "/orders?user_id=u1", "", nil, &page); code != 200 || len(page.Orders) != 5 || page.NextCursor != "" {
		t.Fatalf("default page: %d %+v", code, page)
	}
	if code := h.request(t, "GET", "/orders?user_id=nobody", "", nil, &page); code != 200 || page.Orders == nil || len(page.Orders) != 0 {
		t.Fatalf("a rider without orders: %d %+v", code, page)
	}

	var o Order
	if code := h.request(t, "GET", "/drivers/d1/order", "", nil, &o); code != 200 || o.OrderID != want[1] || o.Status != StatusAccepted || o.DriverID != "d1" {
		t.Fatalf("d1's order: %d %+v", code, o)
	}

	for _, tt := range []struct {
		path   string
		status int
		code   string
	}{
		{"/orders", 400, "missing_field"},
		{"/orders?user_id=a.b", 400, "invalid_id"},
		{"/orders?user_id=u1&limit=0", 400, "invalid_limit"},
		{"/orders?user_id=u1&limit=101", 400, "invalid_limit"},
		{"/orders?user_id=u1&limit=ten", 400, "invalid_limit"},
		{"/orders?user_id=u1&before=yesterday", 400, "invalid_cursor"},
		{"/drivers/d2/order", 404, "order_not_found"},
		{"/drivers/a.b/order", 400, "invalid_id"},
	} {
		var e errorBody
		if code := h.request(t, "GET", tt.path, "", nil, &e); code != tt.status || e.Error != tt.code {
			t.Errorf("GET %s: %d %+v, want %d %s", tt.path, code, e, tt.status, tt.code)
		}
	}
}

func TestListOrdersAuthorization(t *testing.T) {
	h := startHub(t, Config{AuthSecret: testSecret})
	u1, u2 := token(t, RoleUser, "u1", time.Hour), token(t, RoleUser, "u2", time.Hour)
	d1 := token(t, RoleDriver, "d1", time.Hour)
	var o Order
	h.request(t, "POST", "/orders", u1, map[string]any{"user_id": "u1", "pickup": Point{Lat: 1, Lng: 1}, "dropoff": Point{Lat: 2, Lng: 2}}, &o)
	h.request(t, "POST", "/orders/"+o.OrderID+"/accept", d1, map[string]string{"driver_id": "d1"}, nil)

	for _, tt := range []struct {
		name, path, token string
		want              int
	}{
		{"rider lists its own", "/orders?user_id=u1", u1, 200},
		{"rider lists another's", "/orders?user_id=u1", u2, 403},
		{"driver lists a rider's", "/orders?user_id=u1", d1, 200},
		{"anonymous list", "/orders?user_id=u1", "", 401},
		{"driver reads its order", "/drivers/d1/order", d1, 200},
		{"the order's rider reads it", "/drivers/d1/order", u1, 200},
		{"another rider reads it", "/drivers/d1/order", u2, 403},
		{"anonymous driver order", "/drivers/d1/order", "", 401},
	} {
		var e errorBody
		if code := h.request(t, "GET", tt.path, tt.token, nil, &e); code != tt.want {
			t.Errorf("%s: %d %+v, want %d", tt.name, code, e, tt.want)
		}
	}
}

// TestListOrdersAcrossNodes lists, on one node, orders made and accepted
// through another.
func TestListOrdersAcrossNodes(t *testing.T) {
	srv := redistest.Start(t)
	nodes := startNodes(t, srv.URL(), 2)
	a := nodes[0].createOrder(t, "u1")
	b := nodes[0].createOrder(t, "u1")
	nodes[0].request(t, "POST", "/orders/"+a.OrderID+"/accept", "", map[string]string{"driver_id": "d1"}, nil)
	got, status := listAll(t, nodes[1], "", "u1", 1)
	if len(got) != 2 || status[a.OrderID] != StatusAccepted || status[b.OrderID] != StatusOpen {
		t.Fatalf("node n1 lists %v %v", got, status)
	}
	var o Order
	if code := nodes[1].request(t, "GET", "/drivers/d1/order", "", nil, &o); code != 200 || o.OrderID != a.OrderID {
		t.Fatalf("d1's order on n1: %d %+v", code, o)
	}
}
