/**
 * The Lua scripts of RedisCounters. Redis runs a script atomically (no other command interleaves), so each
 * script's check and update form one step across all gateway processes sharing the Redis.
 *
 * Keys, the configured prefix P followed directly by their name (`tollgate:counters:bucket:<bucket>` by default):
 * - `Pbucket:<bucket>`  hash: `spent`, `reserved` (nano-unit integers as decimal strings), `expiresAt` (ms),
 *                        and `h:<reservationId>` = the amount that reservation holds here.
 * - `Pholds:<bucket>`   sorted set of the reservation ids holding amounts here, scored by their expiry (ms).
 * - `Preservation:<id>` hash: `expiresAt` and `b:<bucket>` = amount, one per bucket of the reservation.
 *
 * Keys are built inside the scripts from the prefix (settle learns its buckets from the reservation hash),
 * so they are not declared in KEYS: this suits a standalone or Sentinel Redis. For Redis Cluster, put a
 * hash tag in the prefix (e.g. `{tollgate}:`) so every key lands on one slot.
 *
 * Amounts: Lua numbers are doubles, exact for integers only up to 2^53, too few for nano-units of large
 * token counts. A value is therefore held as a pair {whole units, nano-units below one unit}, each far
 * below 2^53, with carry and borrow done by hand; sums and comparisons are exact.
 */

/** Helpers shared by every script: fixed-point pairs, key names, and expiry of one bucket. */
const PRELUDE = `
local BASE = 1000000000

local function parse(text)
  if not text or text == '' then return {0, 0} end
  local length = string.len(text)
  if length <= 9 then return {0, tonumber(text)} end
  return {tonumber(string.sub(text, 1, length - 9)), tonumber(string.sub(text, length - 8))}
end

local function format(value)
  if value[1] == 0 then return string.format('%.0f', value[2]) end
  return string.format('%.0f%09.0f', value[1], value[2])
end

local function add(a, b)
  local whole = a[1] + b[1]
  local fraction = a[2] + b[2]
  if fraction >= BASE then
    fraction = fraction - BASE
    whole = whole + 1
  end
  return {whole, fraction}
end

-- Never below zero: reserved only ever loses what was added to it, so a clamp would mean a bug, not data.
local function subtract(a, b)
  local whole = a[1] - b[1]
  local fraction = a[2] - b[2]
  if fraction < 0 then
    fraction = fraction + BASE
    whole = whole - 1
  end
  if whole < 0 then return {0, 0} end
  return {whole, fraction}
end

local function atMost(a, b)
  return a[1] < b[1] or (a[1] == b[1] and a[2] <= b[2])
end

local prefix = ARGV[1]
local now = tonumber(ARGV[2])

local function bucketKey(bucket) return prefix .. 'bucket:' .. bucket end
local function holdsKey(bucket) return prefix .. 'holds:' .. bucket end
local function reservationKey(id) return prefix .. 'reservation:' .. id end

-- Drops the bucket if its window is over, else gives back every reservation on it that expired by now.
-- Run before a bucket is read or changed, so no script ever sees an expired amount.
local function refresh(bucket)
  local key = bucketKey(bucket)
  local expiresAt = redis.call('HGET', key, 'expiresAt')
  if expiresAt and tonumber(expiresAt) <= now then
    redis.call('DEL', key, holdsKey(bucket))
    return
  end
  local expired = redis.call('ZRANGEBYSCORE', holdsKey(bucket), '-inf', now)
  if #expired == 0 then return end
  local reserved = parse(redis.call('HGET', key, 'reserved'))
  local leased = parse(redis.call('HGET', key, 'leased'))
  local inUse = parse(redis.call('HGET', key, 'inUse'))
  for _, id in ipairs(expired) do
    local field = 'h:' .. id
    local amount = redis.call('HGET', key, field)
    if amount then
      reserved = subtract(reserved, parse(amount))
      redis.call('HDEL', key, field)
    end
    if string.sub(id, 1, 6) == 'lease:' then
      if amount then leased = subtract(leased, parse(amount)) end
      inUse = subtract(inUse, parse(redis.call('HGET', key, 'i:' .. id)))
      redis.call('HDEL', key, 'i:' .. id)
    end
  end
  redis.call('HSET', key, 'reserved', format(reserved), 'leased', format(leased), 'inUse', format(inUse))
  redis.call('ZREMRANGEBYSCORE', holdsKey(bucket), '-inf', now)
end

-- Records a new expiry (when given) and sets the keys' TTL from it. The TTL is relative to the injected
-- clock (expiresAt - now), so a clock that differs from the Redis server's still expires keys on time.
-- It is re-applied on every write because an emptied sorted set vanishes and comes back without a TTL.
local function applyExpiry(bucket, givenExpiresAt)
  local key = bucketKey(bucket)
  local expiresAt = givenExpiresAt
  if expiresAt == '' then
    expiresAt = redis.call('HGET', key, 'expiresAt')
    if not expiresAt then return end
  else
    redis.call('HSET', key, 'expiresAt', expiresAt)
  end
  local ttl = math.max(tonumber(expiresAt) - now, 1)
  redis.call('PEXPIRE', key, ttl)
  redis.call('PEXPIRE', holdsKey(bucket), ttl)
end
`;

/**
 * ARGV: prefix, now, reservationId, reservationExpiresAt, recordTtlMs, then per check:
 * bucket, limit, amount, expiresAt ('' for none).
 * Returns {1} on success, {0, index of the failing check, spent, reserved}, or {-1} when the id is live.
 */
export const RESERVE_SCRIPT = `${PRELUDE}
local id = ARGV[3]
local reservationExpiresAt = ARGV[4]
local recordTtl = tonumber(ARGV[5])
local first = 6
local count = (#ARGV - first + 1) / 4

local record = reservationKey(id)
-- The record outlives its reservation (see RECORD_MARGIN_MS); only a live one makes the id a duplicate.
local previousExpiresAt = redis.call('HGET', record, 'expiresAt')
if previousExpiresAt and tonumber(previousExpiresAt) > now then return {-1} end
redis.call('DEL', record)

for index = 0, count - 1 do
  local base = first + index * 4
  local bucket = ARGV[base]
  refresh(bucket)
  local key = bucketKey(bucket)
  local spent = parse(redis.call('HGET', key, 'spent'))
  local reserved = parse(redis.call('HGET', key, 'reserved'))
  if not atMost(add(add(spent, reserved), parse(ARGV[base + 2])), parse(ARGV[base + 1])) then
    return {0, index, format(spent), format(reserved)}
  end
end

for index = 0, count - 1 do
  local base = first + index * 4
  local bucket = ARGV[base]
  local amount = ARGV[base + 2]
  local key = bucketKey(bucket)
  local reserved = parse(redis.call('HGET', key, 'reserved'))
  local spent = redis.call('HGET', key, 'spent') or '0'
  redis.call('HSET', key, 'spent', spent, 'reserved', format(add(reserved, parse(amount))), 'h:' .. id, amount)
  redis.call('ZADD', holdsKey(bucket), reservationExpiresAt, id)
  applyExpiry(bucket, ARGV[base + 3])
  redis.call('HSET', record, 'b:' .. bucket, amount)
end
redis.call('HSET', record, 'expiresAt', reservationExpiresAt)
redis.call('PEXPIRE', record, recordTtl)
return {1}
`;

/**
 * ARGV: prefix, now, reservationId, then pairs of bucket, actual amount.
 * Returns 1 when the reservation was live and is now settled, 0 when it was unknown, settled or expired.
 */
export const SETTLE_SCRIPT = `${PRELUDE}
local id = ARGV[3]
local record = reservationKey(id)
local fields = redis.call('HGETALL', record)
if #fields == 0 then return 0 end

local actual = {}
for index = 4, #ARGV, 2 do actual[ARGV[index]] = ARGV[index + 1] end

local expiresAt = nil
local buckets = {}
for index = 1, #fields, 2 do
  local field = fields[index]
  if field == 'expiresAt' then
    expiresAt = tonumber(fields[index + 1])
  elseif string.sub(field, 1, 2) == 'b:' then
    table.insert(buckets, string.sub(field, 3))
  end
end
local live = expiresAt ~= nil and now < expiresAt

for _, bucket in ipairs(buckets) do
  refresh(bucket)
  local key = bucketKey(bucket)
  -- A missing bucket hash means its window ended: nothing is left to release or charge there.
  if redis.call('EXISTS', key) == 1 then
    local field = 'h:' .. id
    local held = redis.call('HGET', key, field)
    local reserved = parse(redis.call('HGET', key, 'reserved'))
    if held then
      reserved = subtract(reserved, parse(held))
      redis.call('HDEL', key, field)
      redis.call('ZREM', holdsKey(bucket), id)
    end
    local spent = parse(redis.call('HGET', key, 'spent'))
    if live and actual[bucket] then spent = add(spent, parse(actual[bucket])) end
    redis.call('HSET', key, 'spent', format(spent), 'reserved', format(reserved))
  end
end
redis.call('DEL', record)
if live then return 1 end
return 0
`;

/** ARGV: prefix, now, bucket, amount, expiresAt ('' for none). Returns 1. */
export const ADD_SCRIPT = `${PRELUDE}
local bucket = ARGV[3]
refresh(bucket)
local key = bucketKey(bucket)
local spent = parse(redis.call('HGET', key, 'spent'))
local reserved = redis.call('HGET', key, 'reserved') or '0'
redis.call('HSET', key, 'spent', format(add(spent, parse(ARGV[4]))), 'reserved', reserved)
applyExpiry(bucket, ARGV[5])
return 1
`;

/**
 * ARGV: prefix, now, then bucket names. Returns spent and held for each bucket in order: held is what requests
 * hold, i.e. the reservations plus what processes reported their requests hold of their leases (see LEASE_SCRIPT).
 */
export const READ_SCRIPT = `${PRELUDE}
local result = {}
for index = 3, #ARGV do
  local bucket = ARGV[index]
  refresh(bucket)
  local key = bucketKey(bucket)
  local reserved = parse(redis.call('HGET', key, 'reserved'))
  local leased = parse(redis.call('HGET', key, 'leased'))
  local inUse = parse(redis.call('HGET', key, 'inUse'))
  table.insert(result, redis.call('HGET', key, 'spent') or '0')
  table.insert(result, format(add(subtract(reserved, leased), inUse)))
end
return result
`;

/**
 * The one script of LeasedCounters: a process's lease on each bucket is a hold like a reservation's, named
 * `lease:<process>`, counted in `reserved` (so every other reservation sees it as taken) and also in `leased`.
 *
 * ARGV: prefix, now, leaseId, recallCooldownMs, then per bucket 9 values:
 *   bucket, used, keep, limit, amount, want, expiresAt, holdUntil, inUse
 * - used: spent by the process out of its lease since its last call; added to spent and taken out of the lease.
 * - keep: '' or the most the lease may still hold afterwards (what the process's requests hold); the rest goes back.
 * - limit: '' for a bucket only flushed; otherwise the bucket is checked: spent + reserved + amount <= limit.
 * - want: on success, how much more than amount to lease, capped at a quarter of what would be left, and 0 while
 *   the bucket is being recalled (a refusal found other processes' leases in the way).
 * - expiresAt: the bucket's expiry ('' for none); holdUntil: when the lease is given back if never renewed.
 * - inUse: what the process's requests hold of the lease (amount is added when granted), kept as `i:<lease>` and
 *   summed in `inUse`, so that reads can show other processes' requests in flight.
 * Every bucket's used and keep are applied whatever the outcome; amounts are granted only if every check passes.
 * Returns {1, lease per bucket...} or {0, index of the failing check, spent, reserved, 1 if other processes hold
 * leases there else 0, lease per bucket...}, leases as nano-unit strings.
 */
export const LEASE_SCRIPT = `${PRELUDE}
local leaseId = ARGV[3]
local cooldown = tonumber(ARGV[4])
local first = 5
local count = (#ARGV - first + 1) / 9
local field = 'h:' .. leaseId

local function minimum(a, b)
  if atMost(a, b) then return a end
  return b
end

local function quarter(value)
  local whole = math.floor(value[1] / 4)
  local remainder = value[1] - whole * 4
  return {whole, math.floor((remainder * BASE + value[2]) / 4)}
end

local states = {}
for index = 0, count - 1 do
  local base = first + index * 9
  local bucket = ARGV[base]
  refresh(bucket)
  local key = bucketKey(bucket)
  local state = {
    key = key,
    spent = parse(redis.call('HGET', key, 'spent')),
    reserved = parse(redis.call('HGET', key, 'reserved')),
    leased = parse(redis.call('HGET', key, 'leased')),
    inUse = parse(redis.call('HGET', key, 'inUse')),
    lease = parse(redis.call('HGET', key, field)),
    mine = parse(ARGV[base + 8]),
  }
  state.inUse = subtract(state.inUse, parse(redis.call('HGET', key, 'i:' .. leaseId)))
  local used = parse(ARGV[base + 1])
  state.spent = add(state.spent, used)
  local given = minimum(state.lease, used)
  if ARGV[base + 2] ~= '' then
    local kept = minimum(subtract(state.lease, given), parse(ARGV[base + 2]))
    given = subtract(state.lease, kept)
  end
  state.lease = subtract(state.lease, given)
  state.reserved = subtract(state.reserved, given)
  state.leased = subtract(state.leased, given)
  states[index] = state
end

local failed = nil
for index = 0, count - 1 do
  local base = first + index * 9
  local state = states[index]
  if ARGV[base + 3] ~= '' and not atMost(add(add(state.spent, state.reserved), parse(ARGV[base + 4])), parse(ARGV[base + 3])) then
    failed = index
    break
  end
end

if failed == nil then
  for index = 0, count - 1 do
    local base = first + index * 9
    local state = states[index]
    if ARGV[base + 3] ~= '' then
      local amount = parse(ARGV[base + 4])
      local grant = amount
      local recallUntil = tonumber(redis.call('HGET', state.key, 'recallUntil') or '0')
      if now >= recallUntil then
        local left = subtract(parse(ARGV[base + 3]), add(add(state.spent, state.reserved), amount))
        grant = add(amount, minimum(parse(ARGV[base + 5]), quarter(left)))
      end
      state.lease = add(state.lease, grant)
      state.reserved = add(state.reserved, grant)
      state.leased = add(state.leased, grant)
      state.mine = add(state.mine, amount)
    end
  end
end

local leases = {}
for index = 0, count - 1 do
  local base = first + index * 9
  local bucket = ARGV[base]
  local state = states[index]
  state.inUse = add(state.inUse, state.mine)
  redis.call('HSET', state.key, 'spent', format(state.spent), 'reserved', format(state.reserved), 'leased', format(state.leased), 'inUse', format(state.inUse))
  if state.mine[1] == 0 and state.mine[2] == 0 then
    redis.call('HDEL', state.key, 'i:' .. leaseId)
  else
    redis.call('HSET', state.key, 'i:' .. leaseId, format(state.mine))
  end
  if state.lease[1] == 0 and state.lease[2] == 0 then
    redis.call('HDEL', state.key, field)
    redis.call('ZREM', holdsKey(bucket), leaseId)
  else
    redis.call('HSET', state.key, field, format(state.lease))
  end
  if state.lease[1] ~= 0 or state.lease[2] ~= 0 or state.mine[1] ~= 0 or state.mine[2] ~= 0 then
    redis.call('ZADD', holdsKey(bucket), ARGV[base + 7], leaseId)
  end
  applyExpiry(bucket, ARGV[base + 6])
  table.insert(leases, format(state.lease))
end

if failed == nil then
  local reply = {1}
  for _, lease in ipairs(leases) do table.insert(reply, lease) end
  return reply
end
local state = states[failed]
local others = 0
if not atMost(state.leased, state.lease) then
  others = 1
  redis.call('HSET', state.key, 'recallUntil', tostring(now + cooldown))
end
local reply = {0, failed, format(state.spent), format(state.reserved), others}
for _, lease in ipairs(leases) do table.insert(reply, lease) end
return reply
`;
