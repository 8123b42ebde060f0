-- Publishes one message to a channel, atomically: idempotency check, offset increment, history
-- append, PUBLISH. Redis runs nothing else meanwhile, so the PUBLISH order is the offset order
-- on every subscriber connection.
-- KEYS: meta hash {t: top offset, e: epoch}, history list (newest first), idempotency key
-- ARGV: 1 pub/sub channel, 2 'j'|'b', 3 key, 4 payload, 5 history size, 6 history TTL ms,
--       7 meta TTL ms, 8 epoch to create, 9 ts, 10 idempotency TTL ms (0: none), 11 '1': no PUBLISH
local meta, hist, idem = KEYS[1], KEYS[2], KEYS[3]
local idemTtl = tonumber(ARGV[10])
if idemTtl > 0 then
  local prev = redis.call('GET', idem)
  if prev then return prev end
end
local top = redis.call('HINCRBY', meta, 't', 1)
local epoch = redis.call('HGET', meta, 'e')
if not epoch then
  epoch = ARGV[8]
  redis.call('HSET', meta, 'e', epoch)
  if top == 1 then redis.call('DEL', hist) end
end
redis.call('PEXPIRE', meta, ARGV[7])
local key = ARGV[3]
local msg = top .. '|' .. epoch .. '|' .. ARGV[9] .. '|' .. ARGV[2] .. '|' .. #key .. '|' .. key .. ARGV[4]
local size = tonumber(ARGV[5])
if size > 0 then
  redis.call('LPUSH', hist, msg)
  redis.call('LTRIM', hist, 0, size - 1)
  local ttl = tonumber(ARGV[6])
  if ttl > 0 then redis.call('PEXPIRE', hist, ttl) end
end
if ARGV[11] ~= '1' then redis.call('PUBLISH', ARGV[1], msg) end
local ack = top .. ' ' .. epoch .. ' ' .. ARGV[9]
if idemTtl > 0 then redis.call('SET', idem, ack, 'PX', idemTtl) end
return ack
