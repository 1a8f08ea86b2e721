package server

import "github.com/taxi-hub/taxi/contract"

// Role says which feed a connection or a token belongs to; see contract.
type Role = contract.Role

// The two kinds of client with a feed, and the dispatcher, who may list
// drivers near a point.
const (
	RoleDriver     = contract.RoleDriver
	RoleUser       = contract.RoleUser
	RoleDispatcher = contract.RoleDispatcher
)
