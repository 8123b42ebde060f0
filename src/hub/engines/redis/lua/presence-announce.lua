-- Shared by the presence scripts (prepended to each by redis-presence.ts): a presence notice goes
-- to the channel's pub/sub and to a short log under a sequence number, so a node whose
-- subscriber connection was down reads the ones it missed (redis-engine's presence recovery).
-- Notice: `<J|L>|<node>|<seq>|<entry JSON>`. The sequence starts at Redis' clock in µs, so it
-- keeps rising when its key expired with the channel's presence and is created again.
local function announcer(seqKey, logKey, pub, ttl, logSize)
  return function(kind, from, entry)
    if redis.call('EXISTS', seqKey) == 0 then
      local t = redis.call('TIME')
      redis.call('SET', seqKey, t[1] .. string.format('%06d', tonumber(t[2])))
    end
    local notice = kind .. '|' .. from .. '|' .. string.format('%.0f', redis.call('INCR', seqKey)) .. '|' .. entry
    redis.call('LPUSH', logKey, notice)
    redis.call('LTRIM', logKey, 0, logSize - 1)
    redis.call('PEXPIRE', seqKey, ttl)
    redis.call('PEXPIRE', logKey, ttl)
    redis.call('PUBLISH', pub, notice)
  end
end
