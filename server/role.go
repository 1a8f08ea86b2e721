package server

// Role says which feed a connection or a token belongs to.
type Role string

// The two kinds of client.
const (
	RoleDriver Role = "driver"
	RoleUser   Role = "user"
)
