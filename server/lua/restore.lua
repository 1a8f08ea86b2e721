-- Write back an order made during an outage without undoing anything Redis
-- learnt since: a missing order is written whole; an order Redis still has
-- open takes the outage's closed state; anything else is left alone.
-- KEYS[1] order hash; ARGV[1] retention seconds; ARGV[2..] field, value pairs
-- Returns "created", "closed" or "kept".
local fields = {}
for i = 2, #ARGV, 2 do
  fields[ARGV[i]] = ARGV[i + 1]
end
if redis.call("EXISTS", KEYS[1]) == 0 then
  redis.call("HSET", KEYS[1], unpack(ARGV, 2))
  redis.call("EXPIRE", KEYS[1], ARGV[1])
  return "created"
end
if redis.call("HGET", KEYS[1], "status") == "open" and fields["status"] ~= "open" then
  redis.call("HSET", KEYS[1], "status", fields["status"], "driver_id", fields["driver_id"] or "")
  return "closed"
end
return "kept"
