-- Reads a channel's top offset and epoch (creating the epoch as a publish would) and the newest
-- messages after an offset. Also refreshes the meta TTL: a channel somebody reads or listens to
-- keeps its epoch even when nobody publishes (the engine calls this periodically for every
-- channel it listens to).
-- KEYS: meta hash, history list
-- ARGV: 1 after offset, 2 limit, 3 epoch to create, 4 meta TTL ms
local meta, hist = KEYS[1], KEYS[2]
local after, limit = tonumber(ARGV[1]), tonumber(ARGV[2])
local top = tonumber(redis.call('HGET', meta, 't') or '0')
local epoch = redis.call('HGET', meta, 'e')
if not epoch then
  epoch = ARGV[3]
  redis.call('HSET', meta, 'e', epoch)
  if top == 0 then redis.call('DEL', hist) end
end
redis.call('PEXPIRE', meta, ARGV[4])
local n = top - after
if n > limit then n = limit end
local items = {}
if n > 0 then items = redis.call('LRANGE', hist, 0, n - 1) end
return {top, epoch, items}
