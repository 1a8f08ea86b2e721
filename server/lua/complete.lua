-- Complete an accepted order for the driver who accepted it, in one step.
-- KEYS[1] order hash; ARGV[1] driver id, ARGV[2] the time (RFC 3339)
-- Returns {"ok", field, value, ...} (the completed order), {"repeat", field,
-- value, ...} when that driver completed it already, {"not_found"},
-- {"not_accepted"} or {"not_driver"}.
if redis.call("EXISTS", KEYS[1]) == 0 then
  return {"not_found"}
end
local status = redis.call("HGET", KEYS[1], "status")
if status ~= "accepted" and status ~= "completed" then
  return {"not_accepted"}
end
if redis.call("HGET", KEYS[1], "driver_id") ~= ARGV[1] then
  return {"not_driver"}
end
local out = {"repeat"}
if status == "accepted" then
  redis.call("HSET", KEYS[1], "status", "completed", "completed_at", ARGV[2])
  out = {"ok"}
end
for _, v in ipairs(redis.call("HGETALL", KEYS[1])) do
  table.insert(out, v)
end
return out
