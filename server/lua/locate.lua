-- Record a driver's position and when it was reported, in one step, so that
-- the GEO set never holds a position the times set does not date.
-- KEYS[1] driver_locations (GEO set), KEYS[2] {driver_locations}:updated
-- ARGV[1] driver id, ARGV[2] lng, ARGV[3] lat, ARGV[4] Unix ms
redis.call("GEOADD", KEYS[1], ARGV[2], ARGV[3], ARGV[1])
redis.call("ZADD", KEYS[2], ARGV[4], ARGV[1])
return 1
