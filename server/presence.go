package server

import (
	"context"
)

// Presence records who is connected anywhere in the cluster. The hub calls
// Join on an id's first local connection and Leave on its last, so a store
// sees each node's view of an id once.
type Presence interface {
	Join(ctx context.Context, role Role, id string) error
	Leave(ctx context.Context, role Role, id string) error
	// Count returns how many distinct ids of role are connected.
	Count(ctx context.Context, role Role) (int64, error)
}
