package contract

// Role says which feed a connection or a token belongs to. It is the role
// claim of a token, the {role} of /ws/{role}/{id} and the role of a
// connected frame.
type Role string

// The two kinds of client.
const (
	RoleDriver Role = "driver"
	RoleUser   Role = "user"
)

// Valid reports whether r is RoleDriver or RoleUser.
func (r Role) Valid() bool { return r == RoleDriver || r == RoleUser }
