-- Forget a node: every id of its presence set leaves the active set unless
-- another node still has it; then its set and registry entry go.
-- KEYS[1] active set, KEYS[2] the dead node's set, KEYS[3] the role's registry
-- ARGV[1] the dead node's id, ARGV[2] node set key prefix
local others = {}
for _, node in ipairs(redis.call("SMEMBERS", KEYS[3])) do
  if node ~= ARGV[1] then
    table.insert(others, ARGV[2] .. node)
  end
end
local removed = 0
for _, id in ipairs(redis.call("SMEMBERS", KEYS[2])) do
  local elsewhere = false
  for _, key in ipairs(others) do
    if redis.call("SISMEMBER", key, id) == 1 then
      elsewhere = true
      break
    end
  end
  if not elsewhere then
    removed = removed + redis.call("SREM", KEYS[1], id)
  end
end
redis.call("DEL", KEYS[2])
redis.call("SREM", KEYS[3], ARGV[1])
return removed
