package loadtest

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"time"

	"github.com/taxi-hub/taxi/contract"
)

// hubAPI calls the hub's HTTP order API.
type hubAPI struct {
	client *http.Client
	minter *minter
}

func newHubAPI(m *minter, timeout time.Duration, conns int) *hubAPI {
	return &hubAPI{
		minter: m,
		client: &http.Client{
			Timeout: timeout,
			Transport: &http.Transport{
				MaxIdleConns:        conns,
				MaxIdleConnsPerHost: conns,
				IdleConnTimeout:     30 * time.Second,
			},
		},
	}
}

// maxAnswer bounds how much of an HTTP answer bench reads.
const maxAnswer = 64 << 10

// do sends body as JSON with a token for role/id and decodes a 2xx answer
// into out; any other status is a *statusError.
func (a *hubAPI) do(ctx context.Context, op, url string, role contract.Role, id string, body, out any) error {
	b, err := json.Marshal(body)
	if err != nil {
		return fmt.Errorf("%s: %w", op, err)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(b))
	if err != nil {
		return fmt.Errorf("%s: %w", op, err)
	}
	req.Header.Set("Content-Type", "application/json")
	token, err := a.minter.token(role, id)
	if err != nil {
		return err
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := a.client.Do(req)
	if err != nil {
		return fmt.Errorf("%s: %w", op, err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, maxAnswer))
	if err != nil {
		return fmt.Errorf("%s: read answer: %w", op, err)
	}
	if resp.StatusCode/100 != 2 {
		return &statusError{op: op, status: resp.StatusCode, body: string(bytes.TrimSpace(data))}
	}
	if out != nil {
		if err := json.Unmarshal(data, out); err != nil {
			return fmt.Errorf("%s: decode answer: %w", op, err)
		}
	}
	return nil
}

// createOrder posts an order for user and returns its id.
func (a *hubAPI) createOrder(ctx context.Context, base, user string, seq int64) (string, error) {
	// Spread pickups over a small grid so orders differ like real ones.
	lat := 52.3 + float64(seq%100)/1000
	lng := 4.8 + float64(seq%37)/1000
	body := map[string]any{
		"user_id": user,
		"pickup":  contract.Point{Lat: lat, Lng: lng},
		"dropoff": contract.Point{Lat: lat + 0.05, Lng: lng + 0.05},
	}
	var out struct {
		OrderID string `json:"order_id"`
	}
	if err := a.do(ctx, "create order", base+"/orders", roleUser, user, body, &out); err != nil {
		return "", err
	}
	if out.OrderID == "" {
		return "", &statusError{op: "create order", status: http.StatusCreated, body: "answer without order_id"}
	}
	return out.OrderID, nil
}

// acceptOrder races for id as driver; won is false on 409 order_taken.
func (a *hubAPI) acceptOrder(ctx context.Context, base, id, driver string) (won bool, err error) {
	err = a.do(ctx, "accept order "+id, base+"/orders/"+id+"/accept", roleDriver, driver,
		map[string]string{"driver_id": driver}, nil)
	if se, ok := err.(*statusError); ok && se.status == http.StatusConflict {
		return false, nil
	}
	return err == nil, err
}

// cancelOrder cancels id on behalf of its rider.
func (a *hubAPI) cancelOrder(ctx context.Context, base, id, user string) error {
	return a.do(ctx, "cancel order "+id, base+"/orders/"+id+"/cancel", roleUser, user,
		map[string]string{"user_id": user}, nil)
}
