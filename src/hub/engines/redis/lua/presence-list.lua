-- Lists a channel's presence after taking out the entries whose node stopped refreshing them
-- (announced as `L||<seq>|<entry>`, as presence-add.lua does).
-- KEYS: presence hash (client → entry JSON), expiry sorted set (client → expiry ms), notice
--       sequence, notice log
-- ARGV: 1 now (ms), 2 pub/sub channel, 3 key TTL (ms), 4 notice log size
local hash, zset, seqKey, logKey = KEYS[1], KEYS[2], KEYS[3], KEYS[4]
local announce = announcer(seqKey, logKey, ARGV[2], ARGV[3], tonumber(ARGV[4]))

local expired = redis.call('ZRANGEBYSCORE', zset, '-inf', ARGV[1])
for _, client in ipairs(expired) do
  local entry = redis.call('HGET', hash, client)
  redis.call('HDEL', hash, client)
  if entry then announce('L', '', entry) end
end
if #expired > 0 then redis.call('ZREMRANGEBYSCORE', zset, '-inf', ARGV[1]) end
return redis.call('HGETALL', hash)
