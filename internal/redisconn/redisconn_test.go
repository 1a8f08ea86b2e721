package redisconn

import (
	"context"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/taxi-hub/taxi/internal/redistest"
)

func TestOptions(t *testing.T) {
	tests := []struct {
		name string
		url  string
		want redis.UniversalOptions // only the fields compared below
		tls  bool
	}{
		// The default of every taxi command.
		{"single default", "redis://localhost:6379/0",
			redis.UniversalOptions{Addrs: []string{"localhost:6379"}}, false},
		// Credentials and a database number, as in most deployments.
		{"single auth db", "redis://app:s3cret@10.0.0.5:6380/2",
			redis.UniversalOptions{Addrs: []string{"10.0.0.5:6380"}, Username: "app", Password: "s3cret", DB: 2}, false},
		// Password only (requirepass), no port: go-redis defaults to 6379.
		{"password only", "redis://:pw@cache",
			redis.UniversalOptions{Addrs: []string{"cache:6379"}, Password: "pw"}, false},
		// A comma inside the password must not turn the URL into a seed list.
		{"comma in password", "redis://:a%2Cb,c@cache:6379/1",
			redis.UniversalOptions{Addrs: []string{"cache:6379"}, Password: "a,b,c", DB: 1}, false},
		// TLS to a managed Redis.
		{"tls", "rediss://:pw@redis.example.com:6380/0",
			redis.UniversalOptions{Addrs: []string{"redis.example.com:6380"}, Password: "pw"}, true},
		// go-redis options pass through.
		{"options", "redis://localhost:6379/0?dial_timeout=3&pool_size=7",
			redis.UniversalOptions{Addrs: []string{"localhost:6379"}, DialTimeout: 3 * time.Second, PoolSize: 7}, false},
		// A bare address is what people paste from redis-cli.
		{"bare host port", "127.0.0.1:7000",
			redis.UniversalOptions{Addrs: []string{"127.0.0.1:7000"}}, false},
		// Cluster seed list with the password written once.
		{"cluster seeds", "redis://:pw@10.0.0.1:7000,10.0.0.2:7001,10.0.0.3:7002",
			redis.UniversalOptions{Addrs: []string{"10.0.0.1:7000", "10.0.0.2:7001", "10.0.0.3:7002"}, Password: "pw", IsClusterMode: true}, false},
		// Seeds that each repeat the scheme.
		{"cluster seeds with schemes", "redis://h1:1,redis://h2:2",
			redis.UniversalOptions{Addrs: []string{"h1:1", "h2:2"}, IsClusterMode: true}, false},
		// Seeds without a scheme, with an option at the end.
		{"cluster bare seeds", "h1:7000,h2:7001?read_timeout=2s",
			redis.UniversalOptions{Addrs: []string{"h1:7000", "h2:7001"}, ReadTimeout: 2 * time.Second, IsClusterMode: true}, false},
		// Cluster over TLS, database 0 spelled out.
		{"cluster tls", "rediss://u:p@h1:7000,h2:7001/0",
			redis.UniversalOptions{Addrs: []string{"h1:7000", "h2:7001"}, Username: "u", Password: "p", IsClusterMode: true}, true},
		// go-redis's own cluster URL form.
		{"cluster addr option", "redis://h1:7000?addr=h2:7001&addr=h3:7002",
			redis.UniversalOptions{Addrs: []string{"h1:7000", "h2:7001", "h3:7002"}, IsClusterMode: true}, false},
		// Sentinel: the password is the master's.
		{"sentinel", "redis-sentinel://:pw@s1:26379,s2:26380/mymaster/3",
			redis.UniversalOptions{Addrs: []string{"s1:26379", "s2:26380"}, MasterName: "mymaster", Password: "pw", DB: 3}, false},
		// Sentinel with its own credentials.
		{"sentinel auth", "redis-sentinel://s1:26379/m?sentinel_password=sp",
			redis.UniversalOptions{Addrs: []string{"s1:26379"}, MasterName: "m", SentinelPassword: "sp"}, false},
		// Sentinel over TLS.
		{"sentinel tls", "rediss-sentinel://s1:26379,s2:26379/m",
			redis.UniversalOptions{Addrs: []string{"s1:26379", "s2:26379"}, MasterName: "m"}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Options(tt.url)
			if err != nil {
				t.Fatalf("Options(%q): %v", tt.url, err)
			}
			w := tt.want
			if !slices.Equal(got.Addrs, w.Addrs) || got.Username != w.Username || got.Password != w.Password ||
				got.DB != w.DB || got.MasterName != w.MasterName || got.IsClusterMode != w.IsClusterMode ||
				got.SentinelPassword != w.SentinelPassword || got.DialTimeout != w.DialTimeout ||
				got.ReadTimeout != w.ReadTimeout || got.PoolSize != w.PoolSize {
				t.Fatalf("Options(%q) =\n%+v\nwant\n%+v", tt.url, *got, w)
			}
			if (got.TLSConfig != nil) != tt.tls {
				t.Fatalf("TLS = %v, want %v", got.TLSConfig != nil, tt.tls)
			}
		})
	}
}

func TestOptionsBuildsTheRightClient(t *testing.T) {
	tests := []struct {
		url     string
		cluster bool
	}{
		{"redis://localhost:6379/0", false},
		{"redis://h1:1,h2:2", true},
		{"redis://h1:7000?addr=h2:7001", true},
		{"redis-sentinel://s1:26379/m", false},
	}
	for _, tt := range tests {
		c, err := New(tt.url)
		if err != nil {
			t.Fatalf("New(%q): %v", tt.url, err)
		}
		if IsCluster(c) != tt.cluster {
			t.Errorf("IsCluster(New(%q)) = %v, want %v", tt.url, IsCluster(c), tt.cluster)
		}
		c.Close()
	}
}

func TestOptionsErrors(t *testing.T) {
	tests := []struct {
		url, wantErr string
	}{
		{"", "empty URL"},
		{"http://localhost:6379", `unknown scheme "http"`},
		{"unix:///tmp/redis.sock", "unix sockets are not supported"},
		{"redis://localhost:6379/abc", "invalid database number"},
		{"redis://localhost:6379/0?bogus=1", "unexpected option: bogus"},
		{"redis://h1:1,,h3:3", "empty address"},
		{"redis://h1:1,rediss://h2:2", "must use the scheme redis"},
		{"redis://h1:1,h2:2/3", "only database 0"},
		{"redis-sentinel://s1:26379", "needs /mastername"},
		{"redis-sentinel://s1:26379/m/x", "invalid database number"},
		{"redis-sentinel://s1:26379/m/1/2", "needs /mastername"},
	}
	for _, tt := range tests {
		_, err := Options(tt.url)
		if err == nil {
			t.Errorf("Options(%q) = nil error, want %q", tt.url, tt.wantErr)
			continue
		}
		msg := err.Error()
		if !strings.HasPrefix(msg, "redisconn: parse ") || !strings.Contains(msg, tt.wantErr) {
			t.Errorf("Options(%q) error = %q, want redisconn: parse ... %q", tt.url, msg, tt.wantErr)
		}
	}
}

func TestErrorsHidePasswords(t *testing.T) {
	_, err := Options("redis://user:hunter2@localhost:6379/x")
	if err == nil || strings.Contains(err.Error(), "hunter2") || !strings.Contains(err.Error(), "user:xxxxx@") {
		t.Fatalf("error = %v, want the password redacted", err)
	}
	if got := Redact("redis-sentinel://s:1/m?sentinel_password=hunter2&db=1"); strings.Contains(got, "hunter2") {
		t.Fatalf("Redact kept the sentinel password: %s", got)
	}
	if got, want := Redact("redis://localhost:6379/0"), "redis://localhost:6379/0"; got != want {
		t.Fatalf("Redact(%q) = %q", want, got)
	}
}

func TestNewAgainstRealServer(t *testing.T) {
	srv := redistest.Start(t)
	ctx := context.Background()
	if err := srv.Client(t).ConfigSet(ctx, "requirepass", "s3cret").Err(); err != nil {
		t.Fatalf("set password: %v", err)
	}

	c, err := New("redis://:s3cret@" + srv.Addr() + "/3")
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if IsCluster(c) {
		t.Fatal("single-node URL built a cluster client")
	}
	if err := c.Set(ctx, "k", "v", 0).Err(); err != nil {
		t.Fatalf("SET with password: %v", err)
	}
	// The database number was honoured: the key is in db 3, not db 0.
	check, _ := New("redis://:s3cret@" + srv.Addr() + "/0")
	defer check.Close()
	if n := check.Exists(ctx, "k").Val(); n != 0 {
		t.Fatalf("key found in db 0, want it only in db 3")
	}

	wrong, _ := New("redis://:nope@" + srv.Addr() + "/0")
	defer wrong.Close()
	if err := wrong.Ping(ctx).Err(); err == nil || !strings.Contains(err.Error(), "WRONGPASS") {
		t.Fatalf("PING with a wrong password: %v, want WRONGPASS", err)
	}
}

func TestNewAgainstRealCluster(t *testing.T) {
	cl := redistest.StartCluster(t)
	ctx := context.Background()
	for _, url := range []string{cl.URL(), strings.Join(cl.Addrs(), ","), "redis://" + cl.Addrs()[0] + "?addr=" + cl.Addrs()[1]} {
		c, err := New(url)
		if err != nil {
			t.Fatalf("New(%q): %v", url, err)
		}
		if !IsCluster(c) {
			t.Fatalf("New(%q) is not a cluster client", url)
		}
		// Keys on every master are reachable through redirections.
		for _, k := range []string{"a", "b", "c", "order_lock:1", "order_lock:2", "order_lock:3"} {
			if err := c.Set(ctx, k, url, 0).Err(); err != nil {
				t.Fatalf("SET %s via %q: %v", k, url, err)
			}
		}
		var masters atomic.Int32 // ForEachMaster calls back concurrently
		err = c.(*redis.ClusterClient).ForEachMaster(ctx, func(context.Context, *redis.Client) error {
			masters.Add(1)
			return nil
		})
		if err != nil || masters.Load() != 3 {
			t.Fatalf("ForEachMaster via %q: %d masters, err %v; want 3", url, masters.Load(), err)
		}
		c.Close()
	}
}
