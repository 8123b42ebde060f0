-- Records (or refreshes) clients present on a channel until an expiry, and first takes out the
-- entries whose node stopped refreshing them. Both are announced on the channel's pub/sub so
-- every node tells its subscribers: a join as `J|<node>|<entry>` (the joining node told its own
-- already), an expiry as `L||<entry>` (no node did), and an entry a heartbeat finds missing
-- (it had expired under a slow node) as `J||<entry>`. The keys live a little longer than the
-- newest entry, so a channel whose nodes all died leaves nothing behind.
-- KEYS: presence hash, expiry sorted set
-- ARGV: 1 expiry (ms since epoch), 2 key TTL (ms), 3 now (ms), 4 pub/sub channel,
--       5 joining node ('' for a heartbeat), then pairs of client id, entry JSON
local hash, zset = KEYS[1], KEYS[2]
local now, pub, node = ARGV[3], ARGV[4], ARGV[5]
local expired = redis.call('ZRANGEBYSCORE', zset, '-inf', now)
for _, client in ipairs(expired) do
  local entry = redis.call('HGET', hash, client)
  redis.call('HDEL', hash, client)
  if entry then redis.call('PUBLISH', pub, 'L||' .. entry) end
end
if #expired > 0 then redis.call('ZREMRANGEBYSCORE', zset, '-inf', now) end
for i = 6, #ARGV, 2 do
  local added = redis.call('HSET', hash, ARGV[i], ARGV[i + 1])
  redis.call('ZADD', zset, ARGV[1], ARGV[i])
  if node ~= '' then
    redis.call('PUBLISH', pub, 'J|' .. node .. '|' .. ARGV[i + 1])
  elseif added == 1 then
    redis.call('PUBLISH', pub, 'J||' .. ARGV[i + 1])
  end
end
redis.call('PEXPIRE', hash, ARGV[2])
redis.call('PEXPIRE', zset, ARGV[2])
return 1
