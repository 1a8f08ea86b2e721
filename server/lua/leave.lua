-- Remove an id from one node's presence set, and from the active set unless
-- another node still has it.
-- KEYS[1] active set, KEYS[2] this node's set, KEYS[3] the role's node registry
-- ARGV[1] id, ARGV[2] this node's set key prefix (for the other nodes' keys)
-- All keys share one hash tag, so this runs on one Cluster slot.
redis.call("SREM", KEYS[2], ARGV[1])
for _, node in ipairs(redis.call("SMEMBERS", KEYS[3])) do
  local key = ARGV[2] .. node
  if key ~= KEYS[2] and redis.call("SISMEMBER", key, ARGV[1]) == 1 then
    return 0
  end
end
return redis.call("SREM", KEYS[1], ARGV[1])
