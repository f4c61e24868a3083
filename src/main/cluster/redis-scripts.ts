// The Lua scripts that keep the cluster's shared state in Redis consistent:
// each runs atomically, on Redis's own clock (TIME), so edges whose clocks
// disagree still agree on leases and rate-limit windows.

const now = `local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)`;

/**
 * Announces an edge until now + lease and forgets edges whose lease ran out.
 * KEYS: edges (zset: advertise -> lease end), edge info (hash: advertise -> JSON)
 * ARGV: advertise, lease ms, info JSON
 */
export const announceEdge = `${now}
local expired = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', now)
for _, edge in ipairs(expired) do redis.call('HDEL', KEYS[2], edge) end
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
redis.call('ZADD', KEYS[1], now + tonumber(ARGV[2]), ARGV[1])
redis.call('HSET', KEYS[2], ARGV[1], ARGV[3])
return now`;

/**
 * Whether a claim's edge field still holds the name: its edge is alive, and
 * has renewed the field within a lease (an edge killed and started again on
 * the same address renews its lease, not the names its last run held).
 * Returns the field's edge, or nil.
 */
const liveHolder = `local function liveHolder(claim, edges, field, now, lease)
  if string.sub(field, 1, 5) ~= 'edge:' then return nil end
  local edge = string.sub(field, 6)
  local leaseEnd = redis.call('ZSCORE', edges, edge)
  local renewed = tonumber(redis.call('HGET', claim, field)) or 0
  if leaseEnd and tonumber(leaseEnd) > now and renewed > now - lease then return edge end
  return nil
end`;

/**
 * Claims a tunnel name for an owner on an edge, unless another owner holds it on a live edge.
 * KEYS: claim (hash: owner, protocol, edge:ADVERTISE -> when renewed...), edges (zset)
 * ARGV: owner, advertise, claim ttl ms, protocol, lease ms
 * Returns {1} when claimed, {0, owner, edge} when held by another.
 */
export const claimName = `${now}
${liveHolder}
local owner = redis.call('HGET', KEYS[1], 'owner')
if owner and owner ~= ARGV[1] then
  for _, field in ipairs(redis.call('HKEYS', KEYS[1])) do
    local edge = liveHolder(KEYS[1], KEYS[2], field, now, tonumber(ARGV[5]))
    if edge then return {0, owner, edge} end
  end
  redis.call('DEL', KEYS[1])
end
redis.call('HSET', KEYS[1], 'owner', ARGV[1], 'protocol', ARGV[4], 'edge:' .. ARGV[2], now)
redis.call('PEXPIRE', KEYS[1], ARGV[3])
return {1}`;

/**
 * The live edges holding a tunnel name, and the tunnel's protocol.
 * KEYS: claim, edges   ARGV: lease ms   Returns {protocol, edge...} or {} when nobody holds it.
 */
export const nameHolders = `${now}
${liveHolder}
local protocol = redis.call('HGET', KEYS[1], 'protocol')
if not protocol then return {} end
local holders = {protocol}
for _, field in ipairs(redis.call('HKEYS', KEYS[1])) do
  local edge = liveHolder(KEYS[1], KEYS[2], field, now, tonumber(ARGV[1]))
  if edge then table.insert(holders, edge) end
end
return holders`;

/**
 * An edge stops serving a name for its owner; the claim goes when no edge serves it.
 * KEYS: claim   ARGV: owner, advertise
 */
export const releaseName = `if redis.call('HGET', KEYS[1], 'owner') ~= ARGV[1] then return 0 end
redis.call('HDEL', KEYS[1], 'edge:' .. ARGV[2])
-- Owner and protocol are all that is left: no edge serves it.
if redis.call('HLEN', KEYS[1]) <= 2 then redis.call('DEL', KEYS[1]) end
return 1`;

/**
 * A token bucket per tunnel shared by every edge: a burst of `rate`, refilled at `rate` per second.
 * KEYS: bucket (hash: tokens, at)   ARGV: rate per second
 * Returns {1, 0} when allowed, {0, ms until a token} when not.
 */
export const takeToken = `${now}
local rate = tonumber(ARGV[1])
local state = redis.call('HMGET', KEYS[1], 'tokens', 'at')
local tokens = tonumber(state[1]) or rate
local at = tonumber(state[2]) or now
tokens = math.min(rate, tokens + math.max(0, now - at) * rate / 1000)
local allowed = 0
local wait = 0
if tokens >= 1 then
  tokens = tokens - 1
  allowed = 1
else
  wait = math.ceil((1 - tokens) * 1000 / rate)
end
redis.call('HSET', KEYS[1], 'tokens', tostring(tokens), 'at', now)
-- A bucket idle for a second is full again: nothing to keep after that.
redis.call('PEXPIRE', KEYS[1], 2000)
return {allowed, wait}`;
