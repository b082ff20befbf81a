package portal

import (
	"net"
	"net/netip"
	"time"

	"charm.land/ssh"
)

// The door: what a connection may hold before it shows a screen. Anyone may
// connect, so every place a connection can take is capped twice: in all,
// and per client address, so that one address cannot take every place
// (a hundred silent connections, reopened as they time out, once kept
// everyone else out). A connection is counted from its first byte; it
// holds a handshake place until it has authenticated, and must then ask
// for its session within the session-request timeout, keepalives or not.

// Why a connection was turned away, as the log says it.
const (
	refusedAddrHandshakes  = "per-address handshake cap"
	refusedAddrConnections = "per-address connection cap"
	refusedHandshakes      = "handshake cap"
	refusedConnections     = "connection cap"
	refusedNoSession       = "session-request timeout"
	refusedBusy            = "busy"
	refusedDraining        = "draining"
	refusedRateLimit       = "rate limit"
)

// addrKey is the unit a client is counted in: an IPv4 address on its own,
// an IPv6 address by its /64, the smallest block a subscriber is given, so
// that nobody multiplies their places by walking through their own prefix.
func addrKey(a net.Addr) string {
	var ip netip.Addr
	if tcp, ok := a.(*net.TCPAddr); ok {
		ip, _ = netip.AddrFromSlice(tcp.IP)
	} else if ap, err := netip.ParseAddrPort(a.String()); err == nil {
		ip = ap.Addr()
	} else if parsed, err := netip.ParseAddr(a.String()); err == nil {
		ip = parsed
	}
	ip = ip.Unmap().WithZone("")
	switch {
	case ip.Is4():
		return ip.String()
	case ip.Is6():
		return netip.PrefixFrom(ip, 64).Masked().String()
	}
	return a.String()
}

// The phases of a connection at the door.
const (
	phaseHandshake = iota // in the handshake: holds a handshake place
	phaseAuthed           // authenticated, its session not yet asked for
	phaseSession          // its session has been asked for
	phaseExpired          // closed for asking for no session in time
)

// door is one connection's places. Its fields are guarded by Server.doorMu.
type door struct {
	key     string
	conn    net.Conn
	phase   int
	waiting bool        // counts in Server.unauthorised: no session yet
	timer   *time.Timer // the session-request deadline, while it runs
}

// addrPlaces are the places one address holds.
type addrPlaces struct {
	handshakes, connections int
}

type doorKey struct{}

func doorOf(ctx ssh.Context) *door {
	d, _ := ctx.Value(doorKey{}).(*door)
	return d
}

// admit takes a place for a new connection from key, or says why there is
// none; a refused connection takes nothing.
func (s *Server) admit(key string) (string, bool) {
	maxUnauth := int64(max(s.opts.SSH.MaxUnauthenticated, 1))
	s.doorMu.Lock()
	defer s.doorMu.Unlock()
	a := s.addrs[key]
	switch {
	case a != nil && a.handshakes >= s.opts.SSH.MaxHandshakesPerAddress:
		return refusedAddrHandshakes, false
	case a != nil && a.connections >= s.opts.SSH.MaxConnectionsPerAddress:
		return refusedAddrConnections, false
	case s.unauthorised.Load() >= maxUnauth:
		return refusedHandshakes, false
	case s.connections.Load() >= int64(s.opts.SSH.MaxConnections)+maxUnauth:
		return refusedConnections, false
	}
	if a == nil {
		a = &addrPlaces{}
		s.addrs[key] = a
	}
	a.handshakes++
	a.connections++
	s.connections.Add(1)
	s.unauthorised.Add(1)
	return "", true
}

// authenticated gives a connection's handshake place back and starts the
// wait for its session request.
func (s *Server) authenticated(ctx ssh.Context) {
	d := doorOf(ctx)
	if d == nil {
		return
	}
	s.doorMu.Lock()
	defer s.doorMu.Unlock()
	if d.phase != phaseHandshake {
		return
	}
	d.phase = phaseAuthed
	s.addrs[d.key].handshakes--
	d.timer = time.AfterFunc(s.opts.SSH.SessionRequestTimeout, func() { s.noSession(d) })
}

// noSession closes a connection that authenticated but asked for no
// session in time.
func (s *Server) noSession(d *door) {
	s.doorMu.Lock()
	expired := d.phase == phaseAuthed
	if expired {
		d.phase = phaseExpired
		d.timer = nil
	}
	s.doorMu.Unlock()
	if expired {
		s.refusals.refuse(d.key, refusedNoSession)
		_ = d.conn.Close()
	}
}

// reached marks a connection as having asked for its session: it no longer
// counts as waiting, and its deadline is off. It reports false for a
// connection already closed for being too late.
func (s *Server) reached(ctx ssh.Context) bool {
	d := doorOf(ctx)
	if d == nil {
		return true
	}
	s.doorMu.Lock()
	defer s.doorMu.Unlock()
	if d.phase == phaseExpired {
		return false
	}
	s.settle(d, phaseSession)
	return true
}

// left gives back every place a closed connection held.
func (s *Server) left(d *door) {
	s.doorMu.Lock()
	defer s.doorMu.Unlock()
	if d.phase == phaseHandshake {
		s.addrs[d.key].handshakes--
	}
	s.settle(d, max(d.phase, phaseSession))
	a := s.addrs[d.key]
	a.connections--
	s.connections.Add(-1)
	if a.connections == 0 {
		delete(s.addrs, d.key)
	}
}

// settle moves a connection past the wait for its session. The caller
// holds s.doorMu.
func (s *Server) settle(d *door, phase int) {
	d.phase = phase
	if d.timer != nil {
		d.timer.Stop()
		d.timer = nil
	}
	if d.waiting {
		d.waiting = false
		s.unauthorised.Add(-1)
	}
}
