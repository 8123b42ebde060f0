-- Takes clients out of a channel's presence and announces each one that was there as
-- `L|<node>|<seq>|<entry>` (the leaving node told its own subscribers), as presence-add.lua does.
-- KEYS: presence hash, expiry sorted set, notice sequence, notice log
-- ARGV: 1 pub/sub channel, 2 node, 3 key TTL (ms), 4 notice log size, then client ids
local hash, zset, seqKey, logKey = KEYS[1], KEYS[2], KEYS[3], KEYS[4]
local announce = announcer(seqKey, logKey, ARGV[1], ARGV[3], tonumber(ARGV[4]))

local gone = 0
for i = 5, #ARGV do
  local entry = redis.call('HGET', hash, ARGV[i])
  if entry then
    redis.call('HDEL', hash, ARGV[i])
    announce('L', ARGV[2], entry)
    gone = gone + 1
  end
  redis.call('ZREM', zset, ARGV[i])
end
return gone
