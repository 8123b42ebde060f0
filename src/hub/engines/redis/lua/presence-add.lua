-- Records (or refreshes) clients present on a channel until an expiry, and first takes out the
-- entries whose node stopped refreshing them. Both are announced (presence-announce.lua) so every node
-- tells its subscribers: a join as `J|<node>|<seq>|<entry>` (the joining node told its own
-- already), an expiry as `L||<seq>|<entry>` (no node did), and an entry a heartbeat finds missing
-- (it had expired under a slow node) as `J||<seq>|<entry>`. The keys live a little longer than
-- the newest entry, so a channel whose nodes all died leaves nothing behind.
-- KEYS: presence hash, expiry sorted set, notice sequence, notice log
-- ARGV: 1 expiry (ms since epoch), 2 key TTL (ms), 3 now (ms), 4 pub/sub channel,
--       5 joining node ('' for a heartbeat), 6 notice log size, then pairs of client id, entry JSON
local hash, zset, seqKey, logKey = KEYS[1], KEYS[2], KEYS[3], KEYS[4]
local now, pub, node, ttl = ARGV[3], ARGV[4], ARGV[5], ARGV[2]
local announce = announcer(seqKey, logKey, pub, ttl, tonumber(ARGV[6]))

local expired = redis.call('ZRANGEBYSCORE', zset, '-inf', now)
for _, client in ipairs(expired) do
  local entry = redis.call('HGET', hash, client)
  redis.call('HDEL', hash, client)
  if entry then announce('L', '', entry) end
end
if #expired > 0 then redis.call('ZREMRANGEBYSCORE', zset, '-inf', now) end
for i = 7, #ARGV, 2 do
  local added = redis.call('HSET', hash, ARGV[i], ARGV[i + 1])
  redis.call('ZADD', zset, ARGV[1], ARGV[i])
  if node ~= '' then
    announce('J', node, ARGV[i + 1])
  elseif added == 1 then
    announce('J', '', ARGV[i + 1])
  end
end
redis.call('PEXPIRE', hash, ttl)
redis.call('PEXPIRE', zset, ttl)
redis.call('PEXPIRE', seqKey, ttl)
redis.call('PEXPIRE', logKey, ttl)
return 1
