-- Takes clients out of a channel's presence and announces each one that was there as
-- `L|<node>|<entry>` on the channel's pub/sub (the leaving node told its own subscribers).
-- KEYS: presence hash, expiry sorted set
-- ARGV: 1 pub/sub channel, 2 node, then client ids
local hash, zset = KEYS[1], KEYS[2]
local gone = 0
for i = 3, #ARGV do
  local entry = redis.call('HGET', hash, ARGV[i])
  if entry then
    redis.call('HDEL', hash, ARGV[i])
    redis.call('PUBLISH', ARGV[1], 'L|' .. ARGV[2] .. '|' .. entry)
    gone = gone + 1
  end
  redis.call('ZREM', zset, ARGV[i])
end
return gone
