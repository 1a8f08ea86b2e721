-- Accept an open order for a driver: the order's status is checked and
-- changed in one step, so of any number of concurrent accepts exactly one
-- sees "open". One key only, so it runs on Redis Cluster too.
-- KEYS[1] order hash; ARGV[1] driver id
-- Returns {"ok", field, value, ...} (the accepted order), {"not_found"},
-- {"taken", driver} or {"not_open"}.
if redis.call("EXISTS", KEYS[1]) == 0 then
  return {"not_found"}
end
local status = redis.call("HGET", KEYS[1], "status")
if status == "accepted" or status == "completed" then
  return {"taken", redis.call("HGET", KEYS[1], "driver_id") or ""}
end
if status ~= "open" then
  return {"not_open"}
end
redis.call("HSET", KEYS[1], "status", "accepted", "driver_id", ARGV[1], "accepted_at", ARGV[2])
local out = {"ok"}
for _, v in ipairs(redis.call("HGETALL", KEYS[1])) do
  table.insert(out, v)
end
return out
