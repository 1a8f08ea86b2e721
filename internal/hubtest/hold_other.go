//go:build !linux

package hubtest

import "net"

// holdPort returns an address nobody listens on at the moment; outside
// Linux the port is not held.
func holdPort() (addr string, release func(), err error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", nil, err
	}
	addr = ln.Addr().String()
	return addr, func() {}, ln.Close()
}
