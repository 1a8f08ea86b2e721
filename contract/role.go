package contract

// Role says which feed a connection or a token belongs to. It is the role
// claim of a token, the {role} of /ws/{role}/{id} and the role of a
// connected frame.
type Role string

// The two kinds of client with a feed, and the dispatcher: an operator's
// tool that may see drivers' positions (GET /drivers/nearby) and has no
// feed.
const (
	RoleDriver     Role = "driver"
	RoleUser       Role = "user"
	RoleDispatcher Role = "dispatcher"
)

// Valid reports whether r is a role a token can carry: RoleDriver,
// RoleUser or RoleDispatcher.
func (r Role) Valid() bool { return r == RoleDriver || r == RoleUser || r == RoleDispatcher }

// HasFeed reports whether r has a WebSocket feed, /ws/{role}/{id}: drivers
// and riders do, dispatchers do not.
func (r Role) HasFeed() bool { return r == RoleDriver || r == RoleUser }
