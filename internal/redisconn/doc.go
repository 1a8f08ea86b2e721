// Package redisconn turns the --redis-url of every taxi command into a
// go-redis client, so that serve, bench, monitor and lock reach the same
// deployment the same way: one node, Sentinel or Cluster.
//
// Accepted forms:
//
//	redis://[user:pass@]host:port[/db][?option=value]   one node (go-redis ParseURL)
//	rediss://...                                         the same over TLS
//	redis://[user:pass@]h1:p1,h2:p2,h3:p3                Cluster seed list
//	h1:p1,h2:p2                                          Cluster seed list, no scheme
//	redis://h1:p1?addr=h2:p2&addr=h3:p3                  Cluster, go-redis ParseClusterURL form
//	redis-sentinel://[user:pass@]s1:p1,s2:p2/master[/db] Sentinel (rediss-sentinel:// for TLS)
//
// In a seed list the credentials and options written once apply to every
// node. In the Sentinel form the credentials are those of the Redis master;
// the sentinels' own are given with ?sentinel_username=&sentinel_password=.
//
// It must never connect to anything while parsing (Options is pure), never
// invent defaults that differ from go-redis's, and never print a password:
// errors show the URL with its password replaced by "xxxxx".
package redisconn
