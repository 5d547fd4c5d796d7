import Redis

/// The queue's Lua scripts. Every script gets the key prefix as ARGV[1] and builds its keys from it
/// (one Redis instance, not Redis Cluster: the dequeue script visits many repositories' keys).
///
/// A job lives as its *record* (`Job.record`, id first) in exactly one place at a time, so that a job
/// costs about six Redis operations from enqueue to ack. Keys under the prefix `P`:
/// - `q:<repo>:h`, `q:<repo>:l` LIST of records (LPUSH at the tail, RPOP at the head)
/// - `inflight` ZSET `worker⇥record` → lease expiry: the member names the holder, so every state
///   change of a lease is fenced by its worker
/// - `rslots:<repo>`, `islots:<integration>` ZSET `worker⇥id` → lease expiry (leased slots)
/// - `delayed` ZSET record → due time; `dead` ZSET id → time buried, `deadrec` HASH id → record
/// - `err` HASH id → last error; `uniq` HASH unique key → id
/// - `ready` ZSET repo → round-robin turn; `rrseq` the turn counter; `blocked` ZSET repo → time to look
///   again; `iblk:<integration>` SET of repos waiting for that integration's slots; `repos` SET of all
/// - `rcfg:<repo>` HASH conc, rate, scope; `icfg:<integration>` HASH max; `pause:<repo>` time (ms)
/// - `gcra:<repo>` theoretical arrival time (ms); `stats` HASH counters; `wake` LIST of wake-up tokens
/// - `workers` ZSET worker → last heartbeat; `worker:<id>` HASH its registry entry
/// Times are milliseconds on the Redis server's clock (`TIME`).
enum QueueScripts {
    static let prelude = #"""
        local P = ARGV[1]
        local function nowms()
          local t = redis.call('TIME')
          return tonumber(t[1]) * 1000 + tonumber(t[2]) / 1000
        end
        -- id, kind, repo, integration, class, unique key
        local function parse(rec)
          return string.match(rec, '^([^\t]*)\t([^\t]*)\t([^\t]*)\t([^\t]*)\t([hl])\t%d+\t%d+\t%d+\t([^\t]*)\t')
        end
        local function chunked(command, key, list)
          for i = 1, #list, 400 do
            redis.call(command, key, unpack(list, i, math.min(i + 399, #list)))
          end
        end
        local function grouped(command, prefix, groups)
          for name, list in pairs(groups) do chunked(command, P .. prefix .. name, list) end
        end
        local function push(groups, name, a, b)
          local list = groups[name]
          if not list then list = {}; groups[name] = list end
          list[#list + 1] = a
          if b then list[#list + 1] = b end
        end
        local seq = nil
        local function nextturn()
          if not seq then seq = tonumber(redis.call('GET', P .. 'rrseq')) or 0 end
          seq = seq + 1
          return seq
        end
        local function saveturn() if seq then redis.call('SET', P .. 'rrseq', seq) end end
        local function ready(repo)
          if not redis.call('ZSCORE', P .. 'blocked', repo) then
            redis.call('ZADD', P .. 'ready', 'NX', nextturn(), repo)
          end
        end
        local function unblock(repo)
          if redis.call('ZREM', P .. 'blocked', repo) == 1 then
            redis.call('ZADD', P .. 'ready', nextturn(), repo)
            return true
          end
          return false
        end
        local function wake()
          redis.call('LPUSH', P .. 'wake', 1)
          redis.call('LTRIM', P .. 'wake', 0, 63)
        end
        local function bury(rec, err, now)
          local id = string.match(rec, '^([^\t]+)\t')
          if not id then id = 'malformed:' .. string.sub(rec, 1, 40) end
          redis.call('ZADD', P .. 'dead', now, id)
          redis.call('HSET', P .. 'deadrec', id, rec)
          redis.call('HSET', P .. 'err', id, err)
          redis.call('HINCRBY', P .. 'stats', 'dead', 1)
          local limit = tonumber(ARGV[2]) or 0
          if limit > 0 and redis.call('ZCARD', P .. 'dead') > limit then
            for _, o in ipairs(redis.call('ZRANGE', P .. 'dead', 0, 0)) do
              redis.call('ZREM', P .. 'dead', o); redis.call('HDEL', P .. 'deadrec', o); redis.call('HDEL', P .. 'err', o)
            end
          end
        end
        -- Ends the leases `worker` holds on these records (fenced: a lease already reaped or held by
        -- another worker is untouched) and frees their slots. `jobs` is a list of {rec, repo, int}.
        -- Returns the records whose lease ended.
        local freed, freedrepos = {}, {}
        local function release(worker, jobs, one)
          local ended = {}
          for _, job in ipairs(jobs) do
            if one then
              if redis.call('ZREM', P .. 'inflight', worker .. '\t' .. job[1]) == 1 then ended[#ended + 1] = job end
            else
              ended[#ended + 1] = job
            end
          end
          if not one and #jobs > 0 then
            local members = {}
            for i, job in ipairs(jobs) do members[i] = worker .. '\t' .. job[1] end
            chunked('ZREM', P .. 'inflight', members)
          end
          local byrepo, byint = {}, {}
          for _, job in ipairs(ended) do
            local slot = worker .. '\t' .. string.match(job[1], '^([^\t]*)')
            push(byrepo, job[2], slot)
            push(byint, job[3], slot)
            freedrepos[job[2]] = true
            freed[job[3]] = true
          end
          grouped('ZREM', 'rslots:', byrepo)
          grouped('ZREM', 'islots:', byint)
          return ended
        end
        local function unblockfreed()
          local any = false
          for repo in pairs(freedrepos) do unblock(repo) end
          for int in pairs(freed) do
            local waiting = redis.call('SMEMBERS', P .. 'iblk:' .. int)
            if #waiting > 0 then
              redis.call('DEL', P .. 'iblk:' .. int)
              for _, r in ipairs(waiting) do unblock(r) end
            end
            any = true
          end
          return any
        end
        -- Puts a record back at the head of its queue.
        local function requeuehead(rec, now)
          local _, _, repo, _, cls = parse(rec)
          if not repo then bury(rec, 'malformed job record', now) return end
          redis.call('RPUSH', P .. 'q:' .. repo .. ':' .. cls, rec)
          ready(repo)
        end
        -- {rec, repo, int} triples from ARGV, starting at `first`.
        local function jobsfrom(first)
          local jobs = {}
          for i = first, #ARGV, 3 do jobs[#jobs + 1] = { ARGV[i], ARGV[i + 1], ARGV[i + 2] } end
          return jobs
        end

        """#

    /// ARGV: P, deadLimit, then per job: id, repo, class (h|l), record, unique key ('' for none),
    /// delay in ms. Returns per job the id it has in the queue (another one's when coalesced).
    static let enqueue = RedisScript(
        name: "enqueue",
        source: prelude + #"""
            local now = nowms()
            local out, queues, order, repos, added, coalesced, delayed = {}, {}, {}, {}, 0, 0, {}
            for i = 3, #ARGV, 6 do
              local id, repo, cls, rec, ukey, delay = ARGV[i], ARGV[i+1], ARGV[i+2], ARGV[i+3], ARGV[i+4], tonumber(ARGV[i+5])
              local held = false
              if ukey ~= '' then
                held = redis.call('HGET', P .. 'uniq', ukey)
                if not held then redis.call('HSET', P .. 'uniq', ukey, id) end
              end
              if held then
                out[#out + 1] = held
                coalesced = coalesced + 1
              else
                if repos[repo] == nil then order[#order + 1] = repo; repos[repo] = false end
                if delay > 0 then
                  delayed[#delayed + 1] = now + delay
                  delayed[#delayed + 1] = rec
                else
                  push(queues, repo .. ':' .. cls, rec)
                  repos[repo] = true
                end
                out[#out + 1] = id
                added = added + 1
              end
            end
            grouped('LPUSH', 'q:', queues)
            chunked('ZADD', P .. 'delayed', delayed)
            for _, repo in ipairs(order) do
              redis.call('SADD', P .. 'repos', repo)
              if repos[repo] then ready(repo) end
            end
            saveturn()
            if added > 0 then redis.call('HINCRBY', P .. 'stats', 'enqueued', added); wake() end
            if coalesced > 0 then redis.call('HINCRBY', P .. 'stats', 'coalesced', coalesced) end
            return out
            """#)

    /// Acks, then promotes due delayed jobs, then hands out up to `max` admissible jobs round-robin
    /// over ready repositories (high before low within one).
    /// ARGV: P, deadLimit, worker, max, lease ms, default rate/min, default integration max, then per
    /// ack: record, repo, integration (leases `worker` holds).
    /// Returns {now, acked, hint ms (-1: nothing scheduled), record...}.
    static let dequeue = RedisScript(
        name: "dequeue",
        source: prelude + #"""
            local now = nowms()
            local worker, max, lease = ARGV[3], tonumber(ARGV[4]), tonumber(ARGV[5])
            local defrate, defintmax = tonumber(ARGV[6]), tonumber(ARGV[7])

            local acked = 0
            local acks = jobsfrom(8)
            if #acks > 0 then
              local before = redis.call('ZCARD', P .. 'inflight')
              release(worker, acks, false)
              acked = before - redis.call('ZCARD', P .. 'inflight')
              if redis.call('EXISTS', P .. 'err') == 1 then
                local ids = {}
                for i, job in ipairs(acks) do ids[i] = string.match(job[1], '^([^\t]*)') end
                chunked('HDEL', P .. 'err', ids)
              end
              if acked > 0 then redis.call('HINCRBY', P .. 'stats', 'acked', acked) end
            end
            local woke = unblockfreed()

            local due = redis.call('ZRANGEBYSCORE', P .. 'delayed', '-inf', now, 'LIMIT', 0, 200)
            if #due > 0 then
              chunked('ZREM', P .. 'delayed', due)
              for _, rec in ipairs(due) do
                local _, _, repo, _, cls = parse(rec)
                if repo then
                  redis.call('LPUSH', P .. 'q:' .. repo .. ':' .. cls, rec)
                  ready(repo)
                else
                  bury(rec, 'malformed job record', now)
                end
              end
            end
            for _, r in ipairs(redis.call('ZRANGEBYSCORE', P .. 'blocked', '-inf', now, 'LIMIT', 0, 200)) do
              unblock(r)
            end

            local until_ = now + lease
            local rstate, istate = {}, {}
            local newin, newrslots, newislots = {}, {}, {}
            local function repostate(r)
              local s = rstate[r]
              if s then return s end
              local cfg = redis.call('HMGET', P .. 'rcfg:' .. r, 'conc', 'rate', 'scope')
              s = { conc = tonumber(cfg[1]) or 0, rate = tonumber(cfg[2]) or defrate, scope = cfg[3] or 'low',
                    pause = tonumber(redis.call('GET', P .. 'pause:' .. r)) or 0, used = 0 }
              if s.conc > 0 then
                redis.call('ZREMRANGEBYSCORE', P .. 'rslots:' .. r, '-inf', now)
                s.used = redis.call('ZCARD', P .. 'rslots:' .. r)
              end
              if s.rate > 0 then s.tat = tonumber(redis.call('GET', P .. 'gcra:' .. r)) or 0 end
              rstate[r] = s
              return s
            end
            local function intstate(int)
              local s = istate[int]
              if s then return s end
              s = { max = tonumber(redis.call('HGET', P .. 'icfg:' .. int, 'max')) or defintmax }
              redis.call('ZREMRANGEBYSCORE', P .. 'islots:' .. int, '-inf', now)
              s.used = redis.call('ZCARD', P .. 'islots:' .. int)
              istate[int] = s
              return s
            end
            local function firstexpiry(key)
              local first = redis.call('ZRANGE', key, 0, 0, 'WITHSCORES')
              return tonumber(first[2]) or until_
            end
            -- 'admitted', record | 'empty' | 'blocked', time to look again
            local function tryclass(r, s, cls)
              if s.conc > 0 and s.used >= s.conc then
                return 'blocked', firstexpiry(P .. 'rslots:' .. r)
              end
              local limited = s.rate > 0 and (cls == 'l' or s.scope == 'all')
              local qk = P .. 'q:' .. r .. ':' .. cls
              while true do
                local rec = redis.call('RPOP', qk)
                if not rec then return 'empty' end
                if limited and s.tat > now then
                  redis.call('RPUSH', qk, rec)
                  return 'blocked', s.tat
                end
                local id, _, _, int, _, ukey = parse(rec)
                if not int then
                  bury(rec, 'malformed job record', now)
                else
                  local is = intstate(int)
                  if is.used >= is.max then
                    redis.call('RPUSH', qk, rec)
                    redis.call('SADD', P .. 'iblk:' .. int, r)
                    return 'blocked', firstexpiry(P .. 'islots:' .. int)
                  end
                  if limited then
                    s.tat = math.max(s.tat, now) + 60000 / s.rate
                    s.tatdirty = true
                  end
                  newin[#newin + 1] = until_
                  newin[#newin + 1] = worker .. '\t' .. rec
                  local slot = worker .. '\t' .. id
                  if s.conc > 0 then
                    push(newrslots, r, until_, slot)
                    s.used = s.used + 1
                  end
                  push(newislots, int, until_, slot)
                  is.used = is.used + 1
                  if ukey ~= '' and redis.call('HGET', P .. 'uniq', ukey) == id then
                    redis.call('HDEL', P .. 'uniq', ukey)
                  end
                  return 'admitted', rec
                end
              end
            end

            -- Round-robin over the ready repositories in turn order, one job per visit; served
            -- repositories go to the back, the others keep their place for the next call.
            local out = { tostring(now), acked, -1 }
            local order = {}
            if max > 0 then order = redis.call('ZRANGE', P .. 'ready', 0, 999) end
            local served, live, at, stamp = {}, #order, 0, 0
            while #out - 3 < max and live > 0 do
              at = at % #order + 1
              local r = order[at]
              if r then
                local s = repostate(r)
                local rec, again, work = nil, nil, false
                if s.pause > now then
                  again, work = s.pause, true
                else
                  for _, cls in ipairs({ 'h', 'l' }) do
                    local status, value = tryclass(r, s, cls)
                    if status == 'admitted' then
                      rec = value
                      break
                    elseif status == 'blocked' then
                      work = true
                      if not again or value < again then again = value end
                    end
                  end
                end
                if rec then
                  out[#out + 1] = rec
                  stamp = stamp + 1
                  served[r] = stamp
                else
                  redis.call('ZREM', P .. 'ready', r)
                  if work then redis.call('ZADD', P .. 'blocked', again, r) end
                  order[at] = false
                  served[r] = nil
                  live = live - 1
                end
              end
            end
            chunked('ZADD', P .. 'inflight', newin)
            grouped('ZADD', 'rslots:', newrslots)
            grouped('ZADD', 'islots:', newislots)
            for r, s in pairs(rstate) do
              if s.tatdirty then
                redis.call('SET', P .. 'gcra:' .. r, tostring(s.tat), 'PX', math.ceil(s.tat - now) + 1000)
              end
            end
            local rotate = {}
            for r in pairs(served) do rotate[#rotate + 1] = r end
            table.sort(rotate, function(x, y) return served[x] < served[y] end)
            for _, r in ipairs(rotate) do redis.call('ZADD', P .. 'ready', 'XX', nextturn(), r) end
            saveturn()
            if #out == 3 then
              local hint = nil
              local b = redis.call('ZRANGE', P .. 'blocked', 0, 0, 'WITHSCORES')
              if b[2] then hint = tonumber(b[2]) end
              local d = redis.call('ZRANGE', P .. 'delayed', 0, 0, 'WITHSCORES')
              if d[2] and (not hint or tonumber(d[2]) < hint) then hint = tonumber(d[2]) end
              if hint then out[3] = math.max(0, math.ceil(hint - now)) end
            end
            if woke then wake() end
            return out
            """#)

    /// Ends a lease with a retry (new record, due after `delay` ms) or a burial (delay < 0).
    /// ARGV: P, deadLimit, worker, record, repo, integration, new record, error, delay ms, counts as
    /// failure (0|1). Returns 1, or 0 when the worker no longer held the lease.
    static let fail = RedisScript(
        name: "fail",
        source: prelude + #"""
            local now = nowms()
            local worker, rec, newrec, err, delay = ARGV[3], ARGV[4], ARGV[7], ARGV[8], tonumber(ARGV[9])
            if #release(worker, { { rec, ARGV[5], ARGV[6] } }, true) == 0 then return 0 end
            if delay >= 0 then
              redis.call('ZADD', P .. 'delayed', now + delay, newrec)
              if err ~= '' then redis.call('HSET', P .. 'err', string.match(newrec, '^([^\t]*)'), err) end
              if ARGV[10] == '1' then redis.call('HINCRBY', P .. 'stats', 'retried', 1) end
            else
              bury(newrec, err, now)
            end
            if unblockfreed() then wake() end
            return 1
            """#)

    /// Buries a record that `worker` holds but cannot read. ARGV: P, deadLimit, worker, record, error.
    static let bury = RedisScript(
        name: "bury",
        source: prelude + #"""
            local member = ARGV[3] .. '\t' .. ARGV[4]
            local _, _, repo, int = parse(ARGV[4])
            if repo then
              release(ARGV[3], { { ARGV[4], repo, int } }, true)
              unblockfreed()
            elseif redis.call('ZREM', P .. 'inflight', member) == 0 then
              return 0
            end
            bury(ARGV[4], ARGV[5], nowms())
            return 1
            """#)

    /// Renews the leases (and slots) `worker` still holds. ARGV: P, deadLimit, lease ms, worker, then
    /// per job: record, repo, integration. Returns the ids no longer held.
    static let extend = RedisScript(
        name: "extend",
        source: prelude + #"""
            local until_, worker = nowms() + tonumber(ARGV[3]), ARGV[4]
            local lost = {}
            for _, job in ipairs(jobsfrom(5)) do
              local member = worker .. '\t' .. job[1]
              local id = string.match(job[1], '^([^\t]*)')
              if redis.call('ZADD', P .. 'inflight', 'XX', 'CH', until_, member) == 0
                and not redis.call('ZSCORE', P .. 'inflight', member) then
                lost[#lost + 1] = id
              else
                redis.call('ZADD', P .. 'rslots:' .. job[2], 'XX', until_, worker .. '\t' .. id)
                redis.call('ZADD', P .. 'islots:' .. job[3], 'XX', until_, worker .. '\t' .. id)
              end
            end
            return lost
            """#)

    /// Returns jobs to the head of their queue: those whose lease expired, at the cost of an attempt
    /// (ARGV: P, deadLimit, 'expired'); every lease `worker` holds, as if expired, when that worker is known to be dead
    /// (ARGV: P, deadLimit, 'orphaned', worker); or the given ones `worker` still holds (ARGV: P, deadLimit, 'given',
    /// worker, then per job: record, repo, integration). Returns the number of jobs returned.
    static let requeue = RedisScript(
        name: "requeue",
        source: prelude + #"""
            local now = nowms()
            local n = 0
            local function expired(members)
              for _, member in ipairs(members) do
                local worker, rec = string.match(member, '^([^\t]*)\t(.*)$')
                local _, _, repo, int = nil, nil, nil, nil
                if rec then _, _, repo, int = parse(rec) end
                if repo then
                  release(worker, { { rec, repo, int } }, true)
                  -- A lease that expired costs an attempt, so a job that kills its workers ends in
                  -- the dead set instead of going round for ever (Sidekiq Pro's poison pills).
                  local head, attempt, max, tail = string.match(rec, '^([^	]*	[^	]*	[^	]*	[^	]*	[hl]	)(%d+)	(%d+)(	.*)$')
                  attempt = tonumber(attempt) + 1
                  local next = head .. attempt .. '	' .. max .. tail
                  if attempt >= tonumber(max) then
                    bury(next, 'lease expired: its worker stopped renewing it (attempt ' .. attempt .. ' of ' .. max .. ')', now)
                  else
                    requeuehead(next, now)
                  end
                else
                  redis.call('ZREM', P .. 'inflight', member)
                  bury(rec or member, 'malformed job record', now)
                end
                n = n + 1
              end
              if n > 0 then redis.call('HINCRBY', P .. 'stats', 'rescued', n) end
            end
            if ARGV[3] == 'expired' then
              expired(redis.call('ZRANGEBYSCORE', P .. 'inflight', '-inf', now, 'LIMIT', 0, 500))
            elseif ARGV[3] == 'orphaned' then
              -- The leases are few (at most the workers' total concurrency): every member is looked at.
              local mine, prefix = {}, ARGV[4] .. '\t'
              for _, member in ipairs(redis.call('ZRANGE', P .. 'inflight', 0, -1)) do
                if string.sub(member, 1, #prefix) == prefix then mine[#mine + 1] = member end
              end
              expired(mine)
            else
              for _, job in ipairs(release(ARGV[4], jobsfrom(5), true)) do
                requeuehead(job[1], now)
                n = n + 1
              end
              if n > 0 then redis.call('HINCRBY', P .. 'stats', 'returned', n) end
            end
            unblockfreed()
            saveturn()
            if n > 0 then wake() end
            return n
            """#)

    /// Operations on dead jobs. ARGV: P, deadLimit, 'retry'|'delete', then ids (none: all, up to 1000).
    /// Returns the number of jobs handled.
    static let dead = RedisScript(
        name: "dead",
        source: prelude + #"""
            local now = nowms()
            local ids = {}
            for i = 4, #ARGV do ids[#ids + 1] = ARGV[i] end
            if #ids == 0 then ids = redis.call('ZRANGE', P .. 'dead', 0, 999) end
            local n = 0
            for _, id in ipairs(ids) do
              if redis.call('ZREM', P .. 'dead', id) == 1 then
                n = n + 1
                local rec = redis.call('HGET', P .. 'deadrec', id)
                redis.call('HDEL', P .. 'deadrec', id)
                redis.call('HDEL', P .. 'err', id)
                if ARGV[3] == 'retry' and rec then
                  local head, tail = string.match(rec, '^([^\t]*\t[^\t]*\t[^\t]*\t[^\t]*\t[hl]\t)%d+(\t.*)$')
                  if head then
                    local fresh = head .. '0' .. tail
                    local _, _, repo, _, cls = parse(fresh)
                    redis.call('LPUSH', P .. 'q:' .. repo .. ':' .. cls, fresh)
                    ready(repo)
                  else
                    bury(rec, 'malformed job record', now)
                    n = n - 1
                  end
                end
              end
            end
            saveturn()
            if ARGV[3] == 'retry' and n > 0 then wake() end
            return n
            """#)

    /// Removes up to 1000 pending jobs of one queue. ARGV: P, deadLimit, queue key suffix.
    /// Returns the number removed (call again until 0).
    static let purge = RedisScript(
        name: "purge",
        source: prelude + #"""
            local recs = redis.call('LPOP', P .. ARGV[3], 1000)
            if not recs then return 0 end
            for _, rec in ipairs(recs) do
              local id, _, _, _, _, ukey = parse(rec)
              if ukey and ukey ~= '' and redis.call('HGET', P .. 'uniq', ukey) == id then
                redis.call('HDEL', P .. 'uniq', ukey)
              end
            end
            redis.call('HINCRBY', P .. 'stats', 'purged', #recs)
            return #recs
            """#)

    /// Sets (or clears) a pause and re-examines the repository. ARGV: P, deadLimit, repo, until ms
    /// (0: resume; -1: leave the pause as it is, only re-examine, after a change of limits).
    static let pause = RedisScript(
        name: "pause",
        source: prelude + #"""
            local repo, until_ = ARGV[3], tonumber(ARGV[4])
            if until_ > 0 then
              redis.call('SET', P .. 'pause:' .. repo, tostring(until_), 'PXAT', math.ceil(until_))
            elseif until_ == 0 then
              redis.call('DEL', P .. 'pause:' .. repo)
            end
            redis.call('SADD', P .. 'repos', repo)
            unblock(repo)
            saveturn()
            wake()
            return 1
            """#)
}
