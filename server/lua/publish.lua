-- Log an event and fan it out in one step: whoever reads the log after the
-- publish finds the event, and whoever receives the publish finds it in the
-- log. The stream and the epoch carry the channel's name as a hash tag, so on
-- Redis Cluster they share the slot of the sharded channel.
-- KEYS[1] the channel's event stream, KEYS[2] its epoch
-- ARGV[1] channel, ARGV[2] frame type, ARGV[3] message JSON, ARGV[4] rider id
-- (empty for drivers), ARGV[5] most entries kept, ARGV[6] retention in ms,
-- ARGV[7] "1" for sharded Pub/Sub, ARGV[8] "1" when the event is for some
-- drivers only, ARGV[9] their ids, comma-separated. Those go in the entry's
-- field "to" and in a top-level "to" of the published frame, which nodes
-- take off before clients see it.
-- Returns the event id.
local now = redis.call("TIME")
if redis.call("EXISTS", KEYS[2]) == 0 then
  -- A new epoch: the log starts here, after a first start or a restart
  -- that lost it.
  redis.call("SET", KEYS[2], now[1] .. "." .. now[2])
end
local fields = {"t", ARGV[2], "m", ARGV[3], "u", ARGV[4]}
if ARGV[8] == "1" then
  table.insert(fields, "to")
  table.insert(fields, ARGV[9])
end
local id = redis.call("XADD", KEYS[1], "MAXLEN", "~", ARGV[5], "*", unpack(fields))
local ms = tonumber(now[1]) * 1000 + math.floor(tonumber(now[2]) / 1000)
redis.call("XTRIM", KEYS[1], "MINID", "~", tostring(ms - tonumber(ARGV[6])))
redis.call("PEXPIRE", KEYS[1], ARGV[6])
local frame = '{"type":"' .. ARGV[2] .. '","id":"' .. id .. '","message":' .. ARGV[3]
if ARGV[8] == "1" then
  frame = frame .. ',"to":"' .. ARGV[9] .. '"'
end
frame = frame .. '}'
if ARGV[7] == "1" then
  redis.call("SPUBLISH", ARGV[1], frame)
else
  redis.call("PUBLISH", ARGV[1], frame)
end
return id
