-- Forget up to ARGV[2] positions reported before ARGV[1] (Unix ms), from the
-- GEO set and the times set together.
-- KEYS[1] driver_locations (GEO set), KEYS[2] {driver_locations}:updated
-- Returns how many were forgotten; the caller repeats while that is ARGV[2].
local old = redis.call("ZRANGEBYSCORE", KEYS[2], "-inf", "(" .. ARGV[1], "LIMIT", 0, ARGV[2])
if #old > 0 then
  redis.call("ZREM", KEYS[1], unpack(old))
  redis.call("ZREM", KEYS[2], unpack(old))
end
return #old
