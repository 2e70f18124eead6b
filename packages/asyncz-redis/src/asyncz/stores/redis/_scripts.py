"""Lua scripts: every write that touches more than one key runs as one script.

Redis runs a script atomically, so the existence check and the writes that follow it can
never interleave with another client's writes (no check-then-act race, no WATCH loop).

Key order is the same for every script::

    KEYS[1] tasks hash        id -> payload
    KEYS[2] run-times zset    id -> next run time in epoch microseconds (paused: absent)
    KEYS[3] quarantine hash   id -> payload of a record that could not be read
    KEYS[4] reasons hash      id -> why it was quarantined
    KEYS[5] leases hash       id -> "until|fire|owner" (see below)
    KEYS[6] run-leases zset   id -> lease end, for the leases that have a fire (run leases)

A lease is packed as ``until|fire|owner``: its end and the fire being run, both in epoch
microseconds (``fire`` empty for a claim lease), then the owner (last, so it may contain
``|``). Times come from the scheduler's clock as decimal strings and are written back as
the same strings: Lua numbers would print 16-digit values rounded.

Writes that change what a scheduler should do next (add, update, delete, remove all,
restore, commit of a claimed fire, release that deletes) PUBLISH the change's name on
``<tasks key>.changes``, the store's wake-up channel; a batched commit or release
publishes once per call, if any of its items changed something.

A write script answers 1 when it did its work and 0 when the precondition failed; the store
turns 0 into the matching error.
"""

from __future__ import annotations

#: Suffix of the pub/sub channel named after the tasks key.
CHANGES_SUFFIX = ".changes"

_HELPERS = (
    """
local function notify(change)
  redis.call('PUBLISH', KEYS[1] .. '"""
    + CHANGES_SUFFIX
    + """', change)
end

local function lease_of(id)
  local packed = redis.call('HGET', KEYS[5], id)
  if not packed then
    return nil
  end
  local until_us, fire, owner = string.match(packed, '^(-?%d+)|(-?%d*)|(.*)$')
  return {until_us = tonumber(until_us), fire = fire, owner = owner}
end

local function set_lease(id, until_us, fire, owner)
  redis.call('HSET', KEYS[5], id, until_us .. '|' .. fire .. '|' .. owner)
  if fire == '' then
    redis.call('ZREM', KEYS[6], id)
  else
    redis.call('ZADD', KEYS[6], until_us, id)
  end
end

local function drop_lease(id)
  redis.call('HDEL', KEYS[5], id)
  redis.call('ZREM', KEYS[6], id)
end
"""
)


def _script(body: str) -> str:
    return _HELPERS + body


#: ARGV: id, payload, score ("" = paused). Fails if the id is live or quarantined.
INSERT = _script("""
if redis.call('HEXISTS', KEYS[1], ARGV[1]) == 1 or redis.call('HEXISTS', KEYS[3], ARGV[1]) == 1 then
  return 0
end
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
if ARGV[3] ~= '' then
  redis.call('ZADD', KEYS[2], ARGV[3], ARGV[1])
end
notify('insert')
return 1
""")

#: ARGV: id, payload, score, repeated per record (distinct ids). All or none: answers the
#: first id that is live or quarantined (nothing written), or 0 when every record was added.
INSERT_MANY = _script("""
for i = 1, #ARGV, 3 do
  local id = ARGV[i]
  if redis.call('HEXISTS', KEYS[1], id) == 1 or redis.call('HEXISTS', KEYS[3], id) == 1 then
    return id
  end
end
for i = 1, #ARGV, 3 do
  redis.call('HSET', KEYS[1], ARGV[i], ARGV[i + 1])
  if ARGV[i + 2] ~= '' then
    redis.call('ZADD', KEYS[2], ARGV[i + 2], ARGV[i])
  end
end
if #ARGV > 0 then
  notify('insert')
end
return 0
""")

#: ARGV: id, payload, score ("" = paused). Fails if the id is not live. A lease stays.
REPLACE = _script("""
if redis.call('HEXISTS', KEYS[1], ARGV[1]) == 0 then
  return 0
end
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
if ARGV[3] == '' then
  redis.call('ZREM', KEYS[2], ARGV[1])
else
  redis.call('ZADD', KEYS[2], ARGV[3], ARGV[1])
end
notify('replace')
return 1
""")

#: ARGV: id. Fails if the id is not live.
REMOVE = _script("""
if redis.call('HDEL', KEYS[1], ARGV[1]) == 0 then
  return 0
end
redis.call('ZREM', KEYS[2], ARGV[1])
drop_lease(ARGV[1])
notify('remove')
return 1
""")

#: No ARGV. Every live record and lease goes; the quarantine stays.
REMOVE_ALL = _script("""
redis.call('DEL', KEYS[1], KEYS[2], KEYS[5], KEYS[6])
notify('remove_all')
return 1
""")

#: ARGV: id, reason. Moves the payload aside; answers 0 if the record is already gone.
QUARANTINE = _script("""
local payload = redis.call('HGET', KEYS[1], ARGV[1])
if not payload then
  return 0
end
redis.call('HSET', KEYS[3], ARGV[1], payload)
redis.call('HSET', KEYS[4], ARGV[1], ARGV[2])
redis.call('HDEL', KEYS[1], ARGV[1])
redis.call('ZREM', KEYS[2], ARGV[1])
drop_lease(ARGV[1])
return 1
""")

#: ARGV: id, payload, score ("" = paused). Fails if the id is not quarantined.
RESTORE = _script("""
if redis.call('HEXISTS', KEYS[3], ARGV[1]) == 0 then
  return 0
end
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
if ARGV[3] ~= '' then
  redis.call('ZADD', KEYS[2], ARGV[3], ARGV[1])
end
redis.call('HDEL', KEYS[3], ARGV[1])
redis.call('HDEL', KEYS[4], ARGV[1])
notify('restore')
return 1
""")

#: ARGV: now (µs), limit (-1 = none).
#: Answers {id1, score1, id2, score2, ...} and the payloads in the same order: one round
#: trip, O(log N + k). HGET per id rather than HMGET with unpack(), which has a stack limit.
DUE = _script("""
local entries = redis.call('ZRANGEBYSCORE', KEYS[2], '-inf', ARGV[1], 'WITHSCORES',
                           'LIMIT', 0, ARGV[2])
local payloads = {}
for i = 1, #entries, 2 do
  payloads[#payloads + 1] = redis.call('HGET', KEYS[1], entries[i])
end
return {entries, payloads}
""")

#: ARGV: now (µs), limit (> 0), owner, until (µs).
#: Leases up to ``limit`` records to ``owner``: first the fires whose run lease ended (their
#: runner died), then due records without a live lease, earliest first. Answers
#: {id, payload, score or "", fire or "", ...}: one round trip per batch.
#: The due scan is bounded: at most HLEN(leases) due records are leased, so a window of
#: ``limit + HLEN(leases)`` entries holds ``limit`` claimable ones whenever that many exist.
CLAIM = _script("""
local now, limit = tonumber(ARGV[1]), tonumber(ARGV[2])
local owner, until_us = ARGV[3], ARGV[4]
local answer, taken, count = {}, {}, 0

local function claim(id, lease)
  local payload = redis.call('HGET', KEYS[1], id)
  if not payload then
    drop_lease(id)  -- a lease left without its record: nothing to run
    return
  end
  local fire = ''
  if lease then
    fire = lease.fire
  end
  set_lease(id, until_us, fire, owner)
  local score = redis.call('ZSCORE', KEYS[2], id) or ''
  answer[#answer + 1] = id
  answer[#answer + 1] = payload
  answer[#answer + 1] = score
  answer[#answer + 1] = fire
  taken[id] = true
  count = count + 1
end

local ended = redis.call('ZRANGEBYSCORE', KEYS[6], '-inf', '(' .. ARGV[1], 'LIMIT', 0, limit)
for _, id in ipairs(ended) do
  claim(id, lease_of(id))
end
if count < limit then
  local window = limit - count + redis.call('HLEN', KEYS[5])
  local due = redis.call('ZRANGEBYSCORE', KEYS[2], '-inf', ARGV[1], 'LIMIT', 0, window)
  for _, id in ipairs(due) do
    if count >= limit then
      break
    end
    if not taken[id] then
      local lease = lease_of(id)
      if not lease or lease.until_us < now then
        claim(id, lease)
      end
    end
  end
end
return answer
""")

_COMMIT_ONE = """
local function commit_one(id, payload, score, owner, fire, until_us)
  local lease = lease_of(id)
  if not lease or lease.owner ~= owner then
    return 0
  end
  if redis.call('HEXISTS', KEYS[1], id) == 0 then
    drop_lease(id)
    return 0
  end
  redis.call('HSET', KEYS[1], id, payload)
  if score == '' then
    redis.call('ZREM', KEYS[2], id)
  else
    redis.call('ZADD', KEYS[2], score, id)
  end
  set_lease(id, until_us, fire, owner)
  return 1
end
"""

_RELEASE_ONE = """
local function release_one(id, owner, delete)
  local lease = lease_of(id)
  if not lease or lease.owner ~= owner then
    return 0, false
  end
  drop_lease(id)
  if delete == '1' then
    redis.call('HDEL', KEYS[1], id)
    redis.call('ZREM', KEYS[2], id)
    return 1, true
  end
  return 1, false
end
"""

#: ARGV: id, payload, score ("" = paused), owner, fire (µs), until (µs).
#: If ``owner`` holds the lease (live or ended): new payload and run time, and the lease
#: becomes a run lease, all at once.
COMMIT = _script(
    _COMMIT_ONE
    + """
local done = commit_one(ARGV[1], ARGV[2], ARGV[3], ARGV[4], ARGV[5], ARGV[6])
if done == 1 then
  notify('commit')
end
return done
"""
)

#: ARGV: owner, until (µs), then id, payload, score, fire (µs) for each record.
#: ``COMMIT`` for each record in order, in one call; answers one 1/0 per record and
#: publishes once if any was committed.
COMMITS = _script(
    _COMMIT_ONE
    + """
local answers, any = {}, false
for i = 3, #ARGV, 4 do
  local done = commit_one(ARGV[i], ARGV[i + 1], ARGV[i + 2], ARGV[1], ARGV[i + 3], ARGV[2])
  answers[#answers + 1] = done
  any = any or done == 1
end
if any then
  notify('commit')
end
return answers
"""
)

#: ARGV: id, owner, delete ("1" = delete the record too).
RELEASE = _script(
    _RELEASE_ONE
    + """
local done, deleted = release_one(ARGV[1], ARGV[2], ARGV[3])
if deleted then
  notify('remove')
end
return done
"""
)

#: ARGV: owner, then id, delete ("1"/"0") for each lease. ``RELEASE`` for each in order,
#: in one call; answers one 1/0 per lease and publishes once if any record was deleted.
RELEASES = _script(
    _RELEASE_ONE
    + """
local answers, any = {}, false
for i = 2, #ARGV, 2 do
  local done, deleted = release_one(ARGV[i], ARGV[1], ARGV[i + 1])
  answers[#answers + 1] = done
  any = any or deleted
end
if any then
  notify('remove')
end
return answers
"""
)

#: ARGV: owner, until (µs), id1, id2, ... Answers the ids whose lease ``owner`` does not hold.
EXTEND = _script("""
local lost = {}
for i = 3, #ARGV do
  local id = ARGV[i]
  local lease = lease_of(id)
  if lease and lease.owner == ARGV[1] then
    set_lease(id, ARGV[2], lease.fire, ARGV[1])
  else
    lost[#lost + 1] = id
  end
end
return lost
""")
