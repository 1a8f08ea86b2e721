-- Delete a lock only while its value is still the caller's.
-- KEYS[1] lock key, ARGV[1] owner
if redis.call("GET", KEYS[1]) == ARGV[1] then
  return redis.call("DEL", KEYS[1])
end
return 0
