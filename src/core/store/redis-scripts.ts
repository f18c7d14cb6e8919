/**
 * The Lua scripts of the Redis store: each runs atomically on the server, so that two instances never both claim
 * one dispatch, the bounds hold across instances, and a slot of a destination goes to one attempt. Times are the
 * server's (`TIME`), so the instances' clocks need not agree.
 *
 * Keys of an outbox (node N, prefix P): `P:ob:N:q` (sorted set: id → when it can be taken: its arrival, its due
 * time, or the end of its claim's lease), `P:ob:N:e` (hash: id → the stored dispatch, JSON, never changed),
 * `P:ob:N:s` (hash: id → its state: retries, due time, result), `P:ob:N:c` (hash: id → the instance that claimed it);
 * `P:usage` (hash: items, bytes over every outbox), `P:obs` (set of node ids with an outbox).
 */

const NOW = `local t = redis.call('TIME') local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)`;

/** KEYS q e usage obs; ARGV maxItems maxBytes nodeId channel n (id json)*n → {1|0 (full), items, bytes, pending} */
export const ADD = `${NOW}
local n = tonumber(ARGV[5])
local size = 0
for i = 1, n do size = size + string.len(ARGV[5 + 2 * i]) end
local items = tonumber(redis.call('HGET', KEYS[3], 'items') or '0')
local bytes = tonumber(redis.call('HGET', KEYS[3], 'bytes') or '0')
if items + n > tonumber(ARGV[1]) or bytes + size > tonumber(ARGV[2]) then return {0, items, bytes, 0} end
for i = 1, n do
  local id = ARGV[4 + 2 * i]
  redis.call('HSET', KEYS[2], id, ARGV[5 + 2 * i])
  redis.call('ZADD', KEYS[1], now + (i - 1) / 1000, id)
end
redis.call('HINCRBY', KEYS[3], 'items', n)
redis.call('HINCRBY', KEYS[3], 'bytes', size)
redis.call('SADD', KEYS[4], ARGV[3])
redis.call('PUBLISH', ARGV[4], ARGV[3])
return {1, items + n, bytes + size, redis.call('ZCARD', KEYS[1])}`;

/** KEYS q e c s; ARGV max leaseMs token → {pending, {id, entry, state}...} */
export const TAKE = `${NOW}
-- ADD orders a batch by fractions of a ms after its arrival: all of the current ms is takeable
local ids = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', '(' .. (now + 1), 'LIMIT', 0, tonumber(ARGV[1]))
local out = {}
for _, id in ipairs(ids) do
  local e = redis.call('HGET', KEYS[2], id)
  if e then
    redis.call('ZADD', KEYS[1], now + tonumber(ARGV[2]), id)
    redis.call('HSET', KEYS[3], id, ARGV[3])
    table.insert(out, id)
    table.insert(out, e)
    table.insert(out, redis.call('HGET', KEYS[4], id) or '')
  else
    redis.call('ZREM', KEYS[1], id)
  end
end
return {redis.call('ZCARD', KEYS[1]), out}`;

/** KEYS q c; ARGV leaseMs token ids... → ids whose claim was lost (taken over) */
export const RENEW = `${NOW}
local lost = {}
for i = 3, #ARGV do
  if redis.call('HGET', KEYS[2], ARGV[i]) == ARGV[2] then
    redis.call('ZADD', KEYS[1], 'XX', now + tonumber(ARGV[1]), ARGV[i])
  elseif redis.call('ZSCORE', KEYS[1], ARGV[i]) then
    table.insert(lost, ARGV[i])
  end
end
return lost`;

/** KEYS e s usage; ARGV id state → 1, or 0 when the dispatch is gone */
export const STATE = `
if redis.call('HEXISTS', KEYS[1], ARGV[1]) == 0 then return 0 end
local old = redis.call('HSTRLEN', KEYS[2], ARGV[1])
redis.call('HSET', KEYS[2], ARGV[1], ARGV[2])
redis.call('HINCRBY', KEYS[3], 'bytes', string.len(ARGV[2]) - old)
return 1`;

/** KEYS q e c s usage; ARGV ids... → removed count */
export const ACK = `
local n, b = 0, 0
for i = 1, #ARGV do
  local id = ARGV[i]
  if redis.call('HEXISTS', KEYS[2], id) == 1 then
    n = n + 1
    b = b + redis.call('HSTRLEN', KEYS[2], id) + redis.call('HSTRLEN', KEYS[4], id)
    redis.call('HDEL', KEYS[2], id)
    redis.call('HDEL', KEYS[4], id)
  end
  redis.call('HDEL', KEYS[3], id)
  redis.call('ZREM', KEYS[1], id)
end
if n > 0 then
  redis.call('HINCRBY', KEYS[5], 'items', -n)
  redis.call('HINCRBY', KEYS[5], 'bytes', -b)
end
return n`;

/** KEYS q c s; ARGV token channel nodeId ids... → released count: claims given back, takeable at their due time */
export const RELEASE = `${NOW}
local n = 0
for i = 4, #ARGV do
  local id = ARGV[i]
  if redis.call('HGET', KEYS[2], id) == ARGV[1] then
    local due = now
    local s = redis.call('HGET', KEYS[3], id)
    if s then
      local ok, st = pcall(cjson.decode, s)
      if ok and type(st) == 'table' and type(st.due) == 'number' and st.due > now then due = st.due end
    end
    redis.call('HDEL', KEYS[2], id)
    redis.call('ZADD', KEYS[1], 'XX', due, id)
    n = n + 1
  end
end
if n > 0 then redis.call('PUBLISH', ARGV[2], ARGV[3]) end
return n`;

/** KEYS q e c s usage obs o; ARGV nodeId → removed count: the outbox and everything in it */
export const DESTROY = `
local n, b = 0, 0
for _, id in ipairs(redis.call('HKEYS', KEYS[2])) do
  n = n + 1
  b = b + redis.call('HSTRLEN', KEYS[2], id) + redis.call('HSTRLEN', KEYS[4], id)
end
redis.call('DEL', KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[7])
redis.call('SREM', KEYS[6], ARGV[1])
if n > 0 then
  redis.call('HINCRBY', KEYS[5], 'items', -n)
  redis.call('HINCRBY', KEYS[5], 'bytes', -b)
end
return n`;

/**
 * KEYS seen claim; ARGV id windowMs max → ids kept. The oldest go first past `max`; the key expires after the window.
 * The id's pending claim (SEEN_CLAIM) goes with it: the id is now seen.
 */
export const SEEN_ADD = `${NOW}
redis.call('ZADD', KEYS[1], now, ARGV[1])
redis.call('DEL', KEYS[2])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', '(' .. (now - tonumber(ARGV[2])))
local c = redis.call('ZCARD', KEYS[1])
local max = tonumber(ARGV[3])
if c > max then
  redis.call('ZREMRANGEBYRANK', KEYS[1], 0, c - max - 1)
  c = max
end
redis.call('PEXPIRE', KEYS[1], math.ceil(tonumber(ARGV[2])))
return c`;

/**
 * KEYS seen claim; ARGV id windowMs ttlMs token → 'seen' (accepted within the window), 'busy' (another claim is
 * pending: `P:sc:<id>`, which lapses after ttlMs) or 'claimed' (the claim is the caller's, under `token`).
 */
export const SEEN_CLAIM = `${NOW}
local at = redis.call('ZSCORE', KEYS[1], ARGV[1])
if at and tonumber(at) >= now - tonumber(ARGV[2]) then return 'seen' end
if redis.call('SET', KEYS[2], ARGV[4], 'NX', 'PX', math.max(1, math.ceil(tonumber(ARGV[3])))) then return 'claimed' end
return 'busy'`;

/** KEYS claim; ARGV token → 1 when the caller's claim was given up, 0 when it was not there (lapsed, or another's) */
export const SEEN_UNCLAIM = `
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0`;

/** KEYS slot pause; ARGV intervalMs → 0 (go: the slot is taken) or ms to wait */
export const ACQUIRE = `${NOW}
local nb = math.max(tonumber(redis.call('GET', KEYS[1]) or '0'), tonumber(redis.call('GET', KEYS[2]) or '0'))
if now < nb then return math.max(1, math.ceil(nb - now)) end
local iv = tonumber(ARGV[1])
if iv > 0 then redis.call('SET', KEYS[1], tostring(now + iv), 'PX', math.ceil(iv) + 1000) end
return 0`;

/** KEYS pause; ARGV delayMs channel message: pauses the destination from now (server time) for delayMs */
export const PAUSE = `${NOW}
local untl = now + tonumber(ARGV[1])
local cur = tonumber(redis.call('GET', KEYS[1]) or '0')
if untl > cur then redis.call('SET', KEYS[1], tostring(untl), 'PX', math.ceil(tonumber(ARGV[1])) + 1000) end
redis.call('PUBLISH', ARGV[2], ARGV[3])
return 1`;

/**
 * History of notifier N: `P:h:N:m` (hash: name, ch, l = limit, b = keeping node, total), `P:h:N:r` (hash: record
 * id → entry JSON), `P:h:N:o` (sorted set: record id → order kept); `P:h:ns` (set of notifier ids), `P:h:seq`.
 */
const TRIM = `
local function trim(m, o, r)
  local limit = tonumber(redis.call('HGET', m, 'l') or '50')
  local c = redis.call('ZCARD', o)
  if c <= limit then return 0 end
  local old = redis.call('ZRANGE', o, 0, c - limit - 1)
  redis.call('ZREMRANGEBYRANK', o, 0, c - limit - 1)
  for _, id in ipairs(old) do redis.call('HDEL', r, id) end
  return #old
end`;

/** KEYS ns m r o seq; ARGV notifierId recordId json name channel limit|'' keptBy|'' defaultLimit → existing JSON or false */
export const KEEP = `${TRIM}
local ex = redis.call('HGET', KEYS[3], ARGV[2])
if ex then return ex end
if ARGV[6] ~= '' then redis.call('HSET', KEYS[2], 'l', ARGV[6])
elseif redis.call('HEXISTS', KEYS[2], 'l') == 0 then redis.call('HSET', KEYS[2], 'l', ARGV[8]) end
if ARGV[7] ~= '' then redis.call('HSET', KEYS[2], 'b', ARGV[7]) end
if ARGV[4] ~= '' then redis.call('HSET', KEYS[2], 'name', ARGV[4]) end
if ARGV[5] ~= '' then redis.call('HSET', KEYS[2], 'ch', ARGV[5]) end
redis.call('HINCRBY', KEYS[2], 'total', 1)
redis.call('HSET', KEYS[3], ARGV[2], ARGV[3])
redis.call('ZADD', KEYS[4], redis.call('INCR', KEYS[5]), ARGV[2])
redis.call('SADD', KEYS[1], ARGV[1])
trim(KEYS[2], KEYS[4], KEYS[3])
return false`;

/** KEYS ns; ARGV prefix keptBy limit → records dropped */
export const SET_LIMIT = `${TRIM}
local dropped = 0
for _, n in ipairs(redis.call('SMEMBERS', KEYS[1])) do
  local m = ARGV[1] .. ':h:' .. n .. ':m'
  if redis.call('HGET', m, 'b') == ARGV[2] and redis.call('HGET', m, 'l') ~= ARGV[3] then
    redis.call('HSET', m, 'l', ARGV[3])
    dropped = dropped + trim(m, ARGV[1] .. ':h:' .. n .. ':o', ARGV[1] .. ':h:' .. n .. ':r')
  end
end
return dropped`;

/** KEYS ns m r o; ARGV notifierId → records removed (-1: unknown notifier) */
export const CLEAR = `
if redis.call('SISMEMBER', KEYS[1], ARGV[1]) == 0 then return -1 end
local n = redis.call('ZCARD', KEYS[4])
redis.call('DEL', KEYS[2], KEYS[3], KEYS[4])
redis.call('SREM', KEYS[1], ARGV[1])
return n`;

/** KEYS m o r → {meta (flat hash), records oldest first} */
export const LOAD = `
local ids = redis.call('ZRANGE', KEYS[2], 0, -1)
local recs = {}
if #ids > 0 then
  for i = 1, #ids, 1000 do
    local part = {}
    for k = i, math.min(i + 999, #ids) do table.insert(part, ids[k]) end
    for _, v in ipairs(redis.call('HMGET', KEYS[3], unpack(part))) do if v then table.insert(recs, v) end end
  end
end
return {redis.call('HGETALL', KEYS[1]), recs}`;

/**
 * Digest groups of notifier-digest node N: `P:dg:N:g` (hash: group key → its timing, JSON), `P:dg:N:z:<sha1 of the
 * group key>` (sorted set: held events by seq, JSON `{s, at, ev, m?}`), `P:dg:N:l` (the lease: the token of the
 * instance that owns the groups, expiring), `P:dg:N:gen` (the token of the last instance that took the lease), `P:dg:N:in` (stream: events forwarded
 * by the other instances, `d` = JSON `{ev, m?}`), `P:dg:N:o` (who the node was); `P:dgs` (set of node ids).
 * Writes are fenced: only the owner writes, and an owner whose lease lapsed takes it again only when nobody took it
 * meanwhile (`gen` is still its token).
 */
const OWNS = `
local function owns(l, gen, token, leaseMs)
  local o = redis.call('GET', l)
  if o == token then return true end
  if (not o) and redis.call('GET', gen) == token then
    redis.call('SET', l, token, 'PX', leaseMs)
    return true
  end
  return false
end`;

/**
 * KEYS l gen; ARGV token leaseMs → 'owner' (renewed; also when it lapsed and nobody took it), 'acquired' (new owner),
 * or 'other'
 */
export const DG_CLAIM = `
local o = redis.call('GET', KEYS[1])
if o == ARGV[1] or ((not o) and redis.call('GET', KEYS[2]) == ARGV[1]) then
  redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
  return 'owner'
end
if o then return 'other' end
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
redis.call('SET', KEYS[2], ARGV[1])
return 'acquired'`;

/** KEYS l gen; ARGV token channel message → 1 when this instance owned the groups (the others are told) */
export const DG_RESIGN = `
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end
redis.call('DEL', KEYS[1], KEYS[2])
redis.call('PUBLISH', ARGV[2], ARGV[3])
return 1`;

/** KEYS g l gen in dgs; ARGV token leaseMs nodeId base key timing consumes n (seq json)*n → 1, or 0 (not the owner) */
export const DG_HOLD = `${OWNS}
if not owns(KEYS[2], KEYS[3], ARGV[1], ARGV[2]) then return 0 end
redis.call('HSET', KEYS[1], ARGV[5], ARGV[6])
local n = tonumber(ARGV[8])
if n > 0 then
  local z = ARGV[4] .. ':z:' .. redis.sha1hex(ARGV[5])
  for i = 1, n do redis.call('ZADD', z, tonumber(ARGV[7 + 2 * i]), ARGV[8 + 2 * i]) end
end
if ARGV[7] ~= '' then redis.call('XDEL', KEYS[4], ARGV[7]) end
redis.call('SADD', KEYS[5], ARGV[3])
return 1`;

/** KEYS g l gen; ARGV token leaseMs base key upTo timing|'' → 1, or 0 (not the owner) */
export const DG_RELEASE = `${OWNS}
if not owns(KEYS[2], KEYS[3], ARGV[1], ARGV[2]) then return 0 end
local z = ARGV[3] .. ':z:' .. redis.sha1hex(ARGV[4])
if tonumber(ARGV[5]) > 0 then redis.call('ZREMRANGEBYSCORE', z, '-inf', tonumber(ARGV[5])) end
if ARGV[6] ~= '' then redis.call('HSET', KEYS[1], ARGV[4], ARGV[6])
elseif redis.call('ZCARD', z) == 0 then redis.call('HDEL', KEYS[1], ARGV[4]) end
return 1`;

/** KEYS g; ARGV base → {key, timing, {json...}}... : every group with its held events by seq */
export const DG_LOAD = `
local out = {}
local all = redis.call('HGETALL', KEYS[1])
for i = 1, #all, 2 do
  table.insert(out, all[i])
  table.insert(out, all[i + 1])
  table.insert(out, redis.call('ZRANGE', ARGV[1] .. ':z:' .. redis.sha1hex(all[i]), 0, -1))
end
return out`;

/**
 * KEYS g l gen in dgs o; ARGV token base nodeId → events removed, or -1 when another instance owns the groups. The
 * inbox stays while it holds forwarded events (the node id stays listed with it).
 */
export const DG_DESTROY = `
local o = redis.call('GET', KEYS[2])
if o and o ~= ARGV[1] then return -1 end
local n = 0
for _, k in ipairs(redis.call('HKEYS', KEYS[1])) do
  local z = ARGV[2] .. ':z:' .. redis.sha1hex(k)
  n = n + redis.call('ZCARD', z)
  redis.call('DEL', z)
end
redis.call('DEL', KEYS[1], KEYS[2], KEYS[6])
if redis.call('XLEN', KEYS[4]) == 0 then
  redis.call('DEL', KEYS[3], KEYS[4])
  redis.call('SREM', KEYS[5], ARGV[3])
end
return n`;

/** KEYS in dgs; ARGV nodeId json channel → the entry's id (the owner is told) */
export const DG_FORWARD = `
local id = redis.call('XADD', KEYS[1], '*', 'd', ARGV[2])
redis.call('SADD', KEYS[2], ARGV[1])
redis.call('PUBLISH', ARGV[3], 'f:' .. ARGV[1])
return id`;
