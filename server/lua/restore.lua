-- Write back an order made during an outage without undoing anything Redis
-- learnt since: a missing order is written whole; an order Redis still has
-- open takes the outage's closed state; an order Redis has accepted by the
-- same driver takes the outage's completion; anything else is left alone.
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
local status = redis.call("HGET", KEYS[1], "status")
if status == "open" and fields["status"] ~= "open" then
  redis.call("HSET", KEYS[1], "status", fields["status"], "driver_id", fields["driver_id"] or "")
  return "closed"
end
if status == "accepted" and fields["status"] == "completed" and
    redis.call("HGET", KEYS[1], "driver_id") == fields["driver_id"] then
  redis.call("HSET", KEYS[1], "status", "completed")
  return "closed"
end
return "kept"
