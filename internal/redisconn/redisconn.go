package redisconn

import (
	"fmt"
	"net"
	"net/url"
	"regexp"
	"strings"

	"github.com/redis/go-redis/v9"
)

// New parses rawURL with Options and builds the matching client: a
// *redis.Client, a *redis.ClusterClient or a sentinel-backed failover client.
// It does not connect; the first command does.
func New(rawURL string) (redis.UniversalClient, error) {
	o, err := Options(rawURL)
	if err != nil {
		return nil, err
	}
	return redis.NewUniversalClient(o), nil
}

// Options parses rawURL (see the package documentation for the accepted
// forms) into options for redis.NewUniversalClient. Cluster forms set
// IsClusterMode, so that even a one-seed cluster URL builds a ClusterClient.
func Options(rawURL string) (*redis.UniversalOptions, error) {
	o, err := parse(strings.TrimSpace(rawURL))
	if err != nil {
		return nil, fmt.Errorf("redisconn: parse %q: %w", Redact(rawURL), err)
	}
	return o, nil
}

// IsCluster reports whether c talks to a Redis Cluster, where commands that
// walk the keyspace (SCAN, DBSIZE) must run on every master.
func IsCluster(c redis.UniversalClient) bool {
	_, ok := c.(*redis.ClusterClient)
	return ok
}

func parse(s string) (*redis.UniversalOptions, error) {
	if s == "" {
		return nil, fmt.Errorf("empty URL")
	}
	scheme, rest, hasScheme := strings.Cut(s, "://")
	if !hasScheme {
		// A bare host:port or seed list: the common way to paste addresses.
		scheme, rest = "redis", s
	}
	switch scheme {
	case "redis-sentinel", "rediss-sentinel":
		return parseSentinel(strings.TrimSuffix(scheme, "-sentinel"), rest)
	case "redis", "rediss":
	case "unix":
		// UniversalOptions has no network field: a socket path would be
		// dialled as TCP. Say so instead of failing obscurely later.
		return nil, fmt.Errorf("unix sockets are not supported; use redis://host:port")
	default:
		return nil, fmt.Errorf("unknown scheme %q (want redis, rediss, redis-sentinel or rediss-sentinel)", scheme)
	}
	// Only a comma among the hosts makes a seed list: a password or an
	// option may contain one too.
	if _, hosts, _ := splitAuthority(rest); strings.Contains(hosts, ",") {
		return parseSeedList(scheme, rest)
	}
	u := scheme + "://" + rest
	if pu, err := url.Parse(u); err == nil && pu.Query().Has("addr") {
		co, err := redis.ParseClusterURL(u)
		if err != nil {
			return nil, err
		}
		return fromCluster(co), nil
	}
	so, err := redis.ParseURL(u)
	if err != nil {
		return nil, err
	}
	return fromSimple(so), nil
}

// splitAuthority splits "userinfo@hosts/path?query" into its parts. The
// userinfo ends at the last '@' before the path, so a password may contain
// '@' if written as %40 or not.
func splitAuthority(rest string) (userinfo, hosts, tail string) {
	hosts = rest
	if i := strings.IndexAny(rest, "/?"); i >= 0 {
		hosts, tail = rest[:i], rest[i:]
	}
	if i := strings.LastIndex(hosts, "@"); i >= 0 {
		userinfo, hosts = hosts[:i+1], hosts[i+1:]
	}
	return userinfo, hosts, tail
}

// parseSeedList reads "userinfo@h1:p1,h2:p2,h3:p3/path?query": credentials
// and options written once for the whole cluster.
func parseSeedList(scheme, rest string) (*redis.UniversalOptions, error) {
	// Later seeds may repeat the scheme ("redis://h1:1,redis://h2:2").
	rest = strings.ReplaceAll(rest, ","+scheme+"://", ",")
	if beforeQuery, _, _ := strings.Cut(rest, "?"); strings.Contains(beforeQuery, "://") {
		return nil, fmt.Errorf("every address in a list must use the scheme %s", scheme)
	}
	userinfo, hostList, tail := splitAuthority(rest)
	hosts, err := splitHosts(scheme, hostList)
	if err != nil {
		return nil, err
	}
	// Let go-redis read credentials, TLS and options from one URL, so the
	// seed list accepts exactly what ParseClusterURL accepts.
	co, err := redis.ParseClusterURL(scheme + "://" + userinfo + hosts[0] + tail)
	if err != nil {
		return nil, err
	}
	if p, _, _ := strings.Cut(tail, "?"); p != "" && p != "/" && p != "/0" {
		return nil, fmt.Errorf("a cluster has only database 0, got path %q", p)
	}
	co.Addrs = append(hosts, co.Addrs[1:]...) // keep any addr= options too
	return fromCluster(co), nil
}

// splitHosts validates a comma-separated host:port list; a missing port
// means 6379, as in go-redis.
func splitHosts(scheme, list string) ([]string, error) {
	var hosts []string
	for _, h := range strings.Split(list, ",") {
		h = strings.TrimSpace(h)
		if h == "" {
			return nil, fmt.Errorf("empty address in list %q", list)
		}
		if strings.Contains(h, "://") {
			return nil, fmt.Errorf("address %q: every address in a list must use the scheme %s", h, scheme)
		}
		u, err := url.Parse("redis://" + h)
		if err != nil || u.Hostname() == "" || u.User != nil || u.Path != "" {
			return nil, fmt.Errorf("invalid address %q in list (want host:port)", h)
		}
		port := u.Port()
		if port == "" {
			port = "6379"
		}
		hosts = append(hosts, net.JoinHostPort(u.Hostname(), port))
	}
	return hosts, nil
}

// parseSentinel reads "userinfo@s1:p1,s2:p2/master[/db][?query]" and hands
// it to go-redis's failover parser in its own form, so options behave
// exactly as documented there.
func parseSentinel(scheme, rest string) (*redis.UniversalOptions, error) {
	userinfo, hostList, tail := splitAuthority(rest)
	hosts, err := splitHosts(scheme+"-sentinel", hostList)
	if err != nil {
		return nil, err
	}
	path, rawQuery, _ := strings.Cut(tail, "?")
	segs := strings.FieldsFunc(path, func(r rune) bool { return r == '/' })
	if len(segs) == 0 || len(segs) > 2 {
		return nil, fmt.Errorf("sentinel URL needs /mastername[/db] after the sentinel addresses")
	}
	q, err := url.ParseQuery(rawQuery)
	if err != nil {
		return nil, err
	}
	master, err := url.PathUnescape(segs[0])
	if err != nil {
		return nil, err
	}
	q.Set("master_name", master)
	if len(segs) == 2 {
		q.Set("db", segs[1])
	}
	for _, h := range hosts[1:] {
		q.Add("addr", h)
	}
	// The userinfo names the master's credentials; go-redis reads them from
	// the query in its failover form and uses the userinfo for the sentinels.
	if userinfo != "" {
		u, err := url.Parse("redis://" + userinfo + "x")
		if err != nil {
			return nil, fmt.Errorf("invalid credentials: %w", err)
		}
		if name := u.User.Username(); name != "" {
			q.Set("username", name)
		}
		if pass, ok := u.User.Password(); ok {
			q.Set("password", pass)
		}
	}
	sentinelUser := url.UserPassword(q.Get("sentinel_username"), q.Get("sentinel_password"))
	hasSentinelAuth := q.Has("sentinel_username") || q.Has("sentinel_password")
	q.Del("sentinel_username")
	q.Del("sentinel_password")
	fu := &url.URL{Scheme: scheme, Host: hosts[0], RawQuery: q.Encode()}
	if hasSentinelAuth {
		fu.User = sentinelUser
	}
	fo, err := redis.ParseFailoverURL(fu.String())
	if err != nil {
		return nil, err
	}
	return fromFailover(fo), nil
}

// Redact returns rawURL with any password replaced by "xxxxx", for error
// messages and logs.
func Redact(rawURL string) string {
	scheme, rest, ok := strings.Cut(rawURL, "://")
	if !ok {
		return rawURL
	}
	userinfo, hosts, tail := splitAuthority(rest)
	if user, _, hasPass := strings.Cut(strings.TrimSuffix(userinfo, "@"), ":"); hasPass {
		userinfo = user + ":xxxxx@"
	}
	// Options may carry secrets too.
	return secretOption.ReplaceAllString(scheme+"://"+userinfo+hosts+tail, "${1}xxxxx")
}

var secretOption = regexp.MustCompile(`([?&](?:sentinel_)?password=)[^&#]*`)
