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
  for _, id in ipairs(expired) do
    local field = 'h:' .. id
    local amount = redis.call('HGET', key, field)
    if amount then
      reserved = subtract(reserved, parse(amount))
      redis.call('HDEL', key, field)
    end
  end
  redis.call('HSET', key, 'reserved', format(reserved))
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

/** ARGV: prefix, now, then bucket names. Returns spent, reserved, spent, reserved, ... in order. */
export const READ_SCRIPT = `${PRELUDE}
local result = {}
for index = 3, #ARGV do
  local bucket = ARGV[index]
  refresh(bucket)
  local key = bucketKey(bucket)
  table.insert(result, redis.call('HGET', key, 'spent') or '0')
  table.insert(result, redis.call('HGET', key, 'reserved') or '0')
end
return result
`;
