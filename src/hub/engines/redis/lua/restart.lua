-- Starts a channel over under a new epoch, but only if it is still in the epoch the caller saw
-- fork (Redis lost messages a node delivered, e.g. through a failover to a replica that had not
-- received them): several nodes may see the same fork, and only the first restart counts.
-- KEYS: meta hash, history list
-- ARGV: 1 epoch seen, 2 new epoch, 3 meta TTL ms
local meta, hist = KEYS[1], KEYS[2]
if redis.call('HGET', meta, 'e') ~= ARGV[1] then return 0 end
redis.call('DEL', meta, hist)
redis.call('HSET', meta, 'e', ARGV[2], 't', 0)
redis.call('PEXPIRE', meta, ARGV[3])
return 1
