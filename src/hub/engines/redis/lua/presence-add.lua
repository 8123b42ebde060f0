-- Records (or refreshes) clients present on a channel until an expiry; the keys live a little
-- longer than the newest entry, so a channel whose nodes all died leaves nothing behind.
-- KEYS: presence hash, expiry sorted set
-- ARGV: 1 expiry (ms since epoch), 2 key TTL (ms), then pairs of client id, entry JSON
local hash, zset = KEYS[1], KEYS[2]
for i = 3, #ARGV, 2 do
  redis.call('HSET', hash, ARGV[i], ARGV[i + 1])
  redis.call('ZADD', zset, ARGV[1], ARGV[i])
end
redis.call('PEXPIRE', hash, ARGV[2])
redis.call('PEXPIRE', zset, ARGV[2])
return 1
