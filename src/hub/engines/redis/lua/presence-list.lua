-- Lists a channel's presence after removing the entries whose node stopped refreshing them.
-- KEYS: presence hash (client → entry JSON), expiry sorted set (client → expiry ms)
-- ARGV: 1 now (ms)
local hash, zset = KEYS[1], KEYS[2]
local expired = redis.call('ZRANGEBYSCORE', zset, '-inf', ARGV[1])
if #expired > 0 then
  redis.call('HDEL', hash, unpack(expired))
  redis.call('ZREMRANGEBYSCORE', zset, '-inf', ARGV[1])
end
return redis.call('HGETALL', hash)
