package contract

// MaxIDLen bounds every id, in bytes, so that keys, logs and frames stay
// small.
const MaxIDLen = 64

// ValidID reports whether id can name a driver, a rider, an order or a node:
// 1 to 64 characters of [A-Za-z0-9_-]. The limit keeps Redis keys and log
// lines predictable and rules out separators, hash tags and SCAN wildcards
// in key names.
func ValidID(id string) bool {
	if len(id) == 0 || len(id) > MaxIDLen {
		return false
	}
	for i := 0; i < len(id); i++ {
		c := id[i]
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9', c == '_', c == '-':
		default:
			return false
		}
	}
	return true
}
