-- The drivers within a radius of a point, nearest first, whose position was
-- reported at or after a time: GEOSEARCH, then the report times of what it
-- found, in one step on one slot.
-- KEYS[1] driver_locations (GEO set), KEYS[2] {driver_locations}:updated
-- ARGV[1] lng, ARGV[2] lat, ARGV[3] radius in metres, ARGV[4] the oldest
-- report time that counts, Unix ms, ARGV[5] most drivers returned (0: all)
-- Returns {{id, distance_m, lng, lat, reported_ms}, ...} as strings.
local found = redis.call("GEOSEARCH", KEYS[1], "FROMLONLAT", ARGV[1], ARGV[2],
  "BYRADIUS", ARGV[3], "m", "ASC", "WITHDIST", "WITHCOORD")
local since, limit = tonumber(ARGV[4]), tonumber(ARGV[5])
local out = {}
-- ZMSCORE in batches: Lua's stack bounds the arguments of one call.
local batch = 1000
for start = 1, #found, batch do
  local ids = {}
  for i = start, math.min(start + batch - 1, #found) do
    ids[#ids + 1] = found[i][1]
  end
  local times = redis.call("ZMSCORE", KEYS[2], unpack(ids))
  for j, t in ipairs(times) do
    if t and tonumber(t) >= since then
      local f = found[start + j - 1]
      out[#out + 1] = {f[1], f[2], f[3][1], f[3][2], t}
      if limit > 0 and #out >= limit then
        return out
      end
    end
  end
end
return out
