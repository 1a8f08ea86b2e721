-- Replace a pending Idempotency-Key claim with the finished record, only
-- while the key still holds that claim: a claim that expired and was taken
-- by another request is left alone.
-- KEYS[1] idempotency key; ARGV[1] the claim, ARGV[2] the finished record,
-- ARGV[3] its time to live in milliseconds
-- Returns 1 when replaced, 0 otherwise.
if redis.call("GET", KEYS[1]) == ARGV[1] then
  redis.call("SET", KEYS[1], ARGV[2], "PX", ARGV[3])
  return 1
end
return 0
