-- clear.lua: delete an order lock only if it is still the lock that was
-- examined, all in one atomic step so no accept can slip in between.
--
-- KEYS[1]  the lock key, order_lock:<order_id>
-- ARGV[1]  the expected owner; "" accepts any owner
-- ARGV[2]  "1" for a dry run: check and report, delete nothing
-- ARGV[3]  "1" to delete only a lock without expiry (clear --stale)
--
-- Returns {outcome, owner, pttl}. For "not_lock" the owner slot holds the
-- key's type instead.

local kind = redis.call("TYPE", KEYS[1])["ok"]
if kind == "none" then
	return {"not_found", "", -2}
end
local pttl = redis.call("PTTL", KEYS[1])
if kind ~= "string" then
	return {"not_lock", kind, pttl}
end

local owner = redis.call("GET", KEYS[1])
if ARGV[1] ~= "" and owner ~= ARGV[1] then
	return {"owner_differs", owner, pttl}
end
if ARGV[3] == "1" and pttl ~= -1 then
	return {"not_stale", owner, pttl}
end
if ARGV[2] == "1" then
	return {"would_clear", owner, pttl}
end

redis.call("DEL", KEYS[1])
return {"cleared", owner, pttl}
