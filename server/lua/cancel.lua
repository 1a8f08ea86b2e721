-- Cancel an open order for its own rider, in one step.
-- KEYS[1] order hash; ARGV[1] user id; ARGV[2] a token of this call, kept in
-- cancelled_at so that a caller whose reply was lost can tell it was its own
-- Returns "ok", "not_found", "not_owner" or "not_open".
if redis.call("EXISTS", KEYS[1]) == 0 then
  return "not_found"
end
if redis.call("HGET", KEYS[1], "user_id") ~= ARGV[1] then
  return "not_owner"
end
if redis.call("HGET", KEYS[1], "status") ~= "open" then
  return "not_open"
end
redis.call("HSET", KEYS[1], "status", "cancelled", "cancelled_at", ARGV[2])
return "ok"
