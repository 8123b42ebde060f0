-- Lists a channel's presence after taking out the entries whose node stopped refreshing them
-- (announced as `L||<entry>` on the channel's pub/sub, as presence-add.lua does).
-- KEYS: presence hash (client → entry JSON), expiry sorted set (client → expiry ms)
-- ARGV: 1 now (ms), 2 pub/sub channel
local hash, zset = KEYS[1], KEYS[2]
local expired = redis.call('ZRANGEBYSCORE', zset, '-inf', ARGV[1])
for _, client in ipairs(expired) do
  local entry = redis.call('HGET', hash, client)
  redis.call('HDEL', hash, client)
  if entry then redis.call('PUBLISH', ARGV[2], 'L||' .. entry) end
end
if #expired > 0 then redis.call('ZREMRANGEBYSCORE', zset, '-inf', ARGV[1]) end
return redis.call('HGETALL', hash)
