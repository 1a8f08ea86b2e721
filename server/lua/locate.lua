-- Record drivers' positions and when they were reported, in one step, so
-- that the GEO set never holds a position the times set does not date.
-- KEYS[1] driver_locations (GEO set), KEYS[2] {driver_locations}:updated
-- ARGV: one or more groups of driver id, lng, lat, Unix ms; a driver named
-- twice keeps its last position.
local geo, times = {}, {}
for i = 1, #ARGV, 4 do
  geo[#geo + 1] = ARGV[i + 1]
  geo[#geo + 1] = ARGV[i + 2]
  geo[#geo + 1] = ARGV[i]
  times[#times + 1] = ARGV[i + 3]
  times[#times + 1] = ARGV[i]
end
redis.call("GEOADD", KEYS[1], unpack(geo))
redis.call("ZADD", KEYS[2], unpack(times))
return #ARGV / 4
