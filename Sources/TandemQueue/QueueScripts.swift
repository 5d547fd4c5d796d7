import Redis

/// The queue's Lua scripts. Every script gets the key prefix as ARGV[1] and builds its keys from it
/// (one Redis instance, not Redis Cluster: the dequeue script visits many repositories' keys).
///
/// Keys under the prefix `P`:
/// - `job` HASH id → job record (see `Job.record`); `err` HASH id → last error; `uniq` HASH key → id
/// - `q:<repo>:h`, `q:<repo>:l` LIST of ids (LPUSH at the tail, RPOP at the head)
/// - `ready` ZSET repo → round-robin turn; `rrseq` the turn counter; `blocked` ZSET repo → time to look
///   again; `iblk:<integration>` SET of repos waiting for that integration's slots; `repos` SET of all
/// - `inflight` ZSET id → lease expiry; `owner` HASH id → worker
/// - `rslots:<repo>`, `islots:<integration>` ZSET id → lease expiry (leased concurrency slots)
/// - `delayed` ZSET id → due time; `dead` ZSET id → time buried
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
        local function bury(id, err, now)
          redis.call('ZADD', P .. 'dead', now, id)
          redis.call('HSET', P .. 'err', id, err)
          redis.call('HINCRBY', P .. 'stats', 'dead', 1)
          local limit = tonumber(ARGV[2]) or 0
          if limit > 0 and redis.call('ZCARD', P .. 'dead') > limit then
            local old = redis.call('ZRANGE', P .. 'dead', 0, 0)
            for _, o in ipairs(old) do
              redis.call('ZREM', P .. 'dead', o); redis.call('HDEL', P .. 'job', o); redis.call('HDEL', P .. 'err', o)
            end
          end
        end
        -- Ends an in-flight lease (fenced: false when the lease was already reaped or acked, or,
        -- with `worker`, is held by another worker) and frees its slots; repositories waiting for
        -- those slots become ready again.
        local freed, freedrepos = {}, {}
        local function release(id, repo, int, worker)
          if worker and redis.call('HGET', P .. 'owner', id) ~= worker then return false end
          if redis.call('ZREM', P .. 'inflight', id) == 0 then return false end
          redis.call('HDEL', P .. 'owner', id)
          redis.call('ZREM', P .. 'rslots:' .. repo, id)
          redis.call('ZREM', P .. 'islots:' .. int, id)
          freedrepos[repo] = true
          freed[int] = true
          return true
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
        local function enqueuehead(id, rec, now)
          local _, _, repo, _, cls = parse(rec)
          if not repo then bury(id, 'malformed job record', now) return end
          redis.call('RPUSH', P .. 'q:' .. repo .. ':' .. cls, id)
          ready(repo)
        end

        """#

    /// ARGV: P, deadLimit, then per job: id, repo, class (h|l), record, unique key ('' for none),
    /// delay in ms. Returns per job the id it has in the queue (another one's when coalesced).
    static let enqueue = RedisScript(
        name: "enqueue",
        source: prelude + #"""
            local now = nowms()
            local out, repos, order, added, coalesced = {}, {}, {}, 0, 0
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
                redis.call('HSET', P .. 'job', id, rec)
                if repos[repo] == nil then order[#order + 1] = repo end
                if delay > 0 then
                  redis.call('ZADD', P .. 'delayed', now + delay, id)
                  repos[repo] = repos[repo] or false
                else
                  redis.call('LPUSH', P .. 'q:' .. repo .. ':' .. cls, id)
                  repos[repo] = true
                end
                out[#out + 1] = id
                added = added + 1
              end
            end
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
    /// over ready repositories (high before low within one). Per job it costs two or three
    /// commands; the lease, owner and slot writes and the acks go in batches.
    /// ARGV: P, deadLimit, worker, max, lease ms, default rate/min, default integration max,
    /// number of acks, then per ack: id, repo, integration (acks of leases `worker` holds).
    /// Returns {now, acked, hint ms (-1: nothing scheduled), record...}.
    static let dequeue = RedisScript(
        name: "dequeue",
        source: prelude + #"""
            local now = nowms()
            local worker, max, lease = ARGV[3], tonumber(ARGV[4]), tonumber(ARGV[5])
            local defrate, defintmax, nacks = tonumber(ARGV[6]), tonumber(ARGV[7]), tonumber(ARGV[8])
            local function chunked(command, key, list)
              for i = 1, #list, 400 do
                redis.call(command, key, unpack(list, i, math.min(i + 399, #list)))
              end
            end
            local function grouped(command, prefix, groups)
              for name, list in pairs(groups) do chunked(command, P .. prefix .. name, list) end
            end

            -- Acks, fenced by owner: a lease reaped and handed to another worker is not touched.
            local acked = 0
            if nacks > 0 then
              local ids, held, byrepo, byint = {}, {}, {}, {}
              for i = 9, 8 + nacks * 3, 3 do ids[#ids + 1] = ARGV[i] end
              for c = 1, #ids, 400 do
                local owners = redis.call('HMGET', P .. 'owner', unpack(ids, c, math.min(c + 399, #ids)))
                for k = 1, #owners do
                  local n = c + k - 1
                  if owners[k] == worker then
                    local id, repo, int = ids[n], ARGV[7 + n * 3], ARGV[8 + n * 3]
                    held[#held + 1] = id
                    byrepo[repo] = byrepo[repo] or {}
                    table.insert(byrepo[repo], id)
                    byint[int] = byint[int] or {}
                    table.insert(byint[int], id)
                    freedrepos[repo] = true
                    freed[int] = true
                  end
                end
              end
              if #held > 0 then
                chunked('ZREM', P .. 'inflight', held)
                chunked('HDEL', P .. 'owner', held)
                chunked('HDEL', P .. 'job', held)
                chunked('HDEL', P .. 'err', held)
                grouped('ZREM', 'rslots:', byrepo)
                grouped('ZREM', 'islots:', byint)
                acked = #held
                redis.call('HINCRBY', P .. 'stats', 'acked', acked)
              end
            end
            local woke = unblockfreed()

            local due = redis.call('ZRANGEBYSCORE', P .. 'delayed', '-inf', now, 'LIMIT', 0, 200)
            for _, id in ipairs(due) do
              redis.call('ZREM', P .. 'delayed', id)
              local rec = redis.call('HGET', P .. 'job', id)
              if rec then
                local _, _, repo, _, cls = parse(rec)
                if repo then
                  redis.call('LPUSH', P .. 'q:' .. repo .. ':' .. cls, id)
                  ready(repo)
                else
                  bury(id, 'malformed job record', now)
                end
              end
            end
            for _, r in ipairs(redis.call('ZRANGEBYSCORE', P .. 'blocked', '-inf', now, 'LIMIT', 0, 200)) do
              unblock(r)
            end

            local until_ = now + lease
            local rstate, istate = {}, {}
            local newin, newowner, newrslots, newislots = {}, {}, {}, {}
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
                local id = redis.call('RPOP', qk)
                if not id then return 'empty' end
                if limited and s.tat > now then
                  redis.call('RPUSH', qk, id)
                  return 'blocked', s.tat
                end
                local rec = redis.call('HGET', P .. 'job', id)
                if rec then
                  local _, _, _, int, _, ukey = parse(rec)
                  if not int then
                    bury(id, 'malformed job record', now)
                  else
                    local is = intstate(int)
                    if is.used >= is.max then
                      redis.call('RPUSH', qk, id)
                      redis.call('SADD', P .. 'iblk:' .. int, r)
                      return 'blocked', firstexpiry(P .. 'islots:' .. int)
                    end
                    if limited then
                      s.tat = math.max(s.tat, now) + 60000 / s.rate
                      s.tatdirty = true
                    end
                    newin[#newin + 1] = until_
                    newin[#newin + 1] = id
                    newowner[#newowner + 1] = id
                    newowner[#newowner + 1] = worker
                    if s.conc > 0 then
                      newrslots[r] = newrslots[r] or {}
                      table.insert(newrslots[r], until_)
                      table.insert(newrslots[r], id)
                      s.used = s.used + 1
                    end
                    newislots[int] = newislots[int] or {}
                    table.insert(newislots[int], until_)
                    table.insert(newislots[int], id)
                    is.used = is.used + 1
                    if ukey ~= '' and redis.call('HGET', P .. 'uniq', ukey) == id then
                      redis.call('HDEL', P .. 'uniq', ukey)
                    end
                    return 'admitted', rec
                  end
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
            if #newin > 0 then
              chunked('ZADD', P .. 'inflight', newin)
              chunked('HSET', P .. 'owner', newowner)
              grouped('ZADD', 'rslots:', newrslots)
              grouped('ZADD', 'islots:', newislots)
            end
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

    /// Ends a lease with a retry (record rewritten, due after `delay` ms) or a burial (delay < 0).
    /// ARGV: P, deadLimit, id, repo, integration, new record, error, delay ms, counts as failure (0|1),
    /// worker. Returns 1, or 0 when the worker no longer held the lease.
    static let fail = RedisScript(
        name: "fail",
        source: prelude + #"""
            local now = nowms()
            local id, repo, int, rec, err, delay = ARGV[3], ARGV[4], ARGV[5], ARGV[6], ARGV[7], tonumber(ARGV[8])
            if not release(id, repo, int, ARGV[10]) then return 0 end
            redis.call('HSET', P .. 'job', id, rec)
            if delay >= 0 then
              redis.call('ZADD', P .. 'delayed', now + delay, id)
              if err ~= '' then redis.call('HSET', P .. 'err', id, err) end
              if ARGV[9] == '1' then redis.call('HINCRBY', P .. 'stats', 'retried', 1) end
            else
              bury(id, err, now)
            end
            if unblockfreed() then wake() end
            return 1
            """#)

    /// Renews leases (and their slots) of jobs `worker` still holds. ARGV: P, deadLimit, lease ms,
    /// worker, then per job: id, repo, integration. Returns the ids no longer held.
    static let extend = RedisScript(
        name: "extend",
        source: prelude + #"""
            local until_ = nowms() + tonumber(ARGV[3])
            local lost = {}
            for i = 5, #ARGV, 3 do
              local id = ARGV[i]
              if redis.call('HGET', P .. 'owner', id) ~= ARGV[4] then
                lost[#lost + 1] = id
              elseif redis.call('ZADD', P .. 'inflight', 'XX', 'CH', until_, id) == 0 and not redis.call('ZSCORE', P .. 'inflight', id) then
                lost[#lost + 1] = id
              else
                redis.call('ZADD', P .. 'rslots:' .. ARGV[i+1], 'XX', until_, id)
                redis.call('ZADD', P .. 'islots:' .. ARGV[i+2], 'XX', until_, id)
              end
            end
            return lost
            """#)

    /// Returns jobs to the head of their queue: those whose lease expired (ARGV: P, deadLimit, 'expired')
    /// or the given ones `worker` still holds (ARGV: P, deadLimit, 'given', worker, then per job: id,
    /// repo, integration).
    /// Returns the number of jobs returned.
    static let requeue = RedisScript(
        name: "requeue",
        source: prelude + #"""
            local now = nowms()
            local n = 0
            if ARGV[3] == 'expired' then
              for _, id in ipairs(redis.call('ZRANGEBYSCORE', P .. 'inflight', '-inf', now, 'LIMIT', 0, 500)) do
                local rec = redis.call('HGET', P .. 'job', id)
                local _, _, repo, int = nil, nil, nil, nil
                if rec then _, _, repo, int = parse(rec) end
                if repo then
                  release(id, repo, int)
                  enqueuehead(id, rec, now)
                else
                  redis.call('ZREM', P .. 'inflight', id)
                  redis.call('HDEL', P .. 'owner', id)
                  if rec then bury(id, 'malformed job record', now) end
                end
                n = n + 1
              end
              if n > 0 then redis.call('HINCRBY', P .. 'stats', 'rescued', n) end
            else
              for i = 5, #ARGV, 3 do
                local id = ARGV[i]
                if release(id, ARGV[i+1], ARGV[i+2], ARGV[4]) then
                  local rec = redis.call('HGET', P .. 'job', id)
                  if rec then enqueuehead(id, rec, now) end
                  n = n + 1
                end
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
                local rec = redis.call('HGET', P .. 'job', id)
                if ARGV[3] == 'retry' and rec then
                  local head, tail = string.match(rec, '^([^\t]*\t[^\t]*\t[^\t]*\t[^\t]*\t[hl]\t)%d+(\t.*)$')
                  if head then
                    redis.call('HSET', P .. 'job', id, head .. '0' .. tail)
                    local _, _, repo, _, cls = parse(rec)
                    redis.call('LPUSH', P .. 'q:' .. repo .. ':' .. cls, id)
                    ready(repo)
                  else
                    bury(id, 'malformed job record', now)
                    n = n - 1
                  end
                else
                  redis.call('HDEL', P .. 'job', id)
                  redis.call('HDEL', P .. 'err', id)
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
            local ids = redis.call('LPOP', P .. ARGV[3], 1000)
            if not ids then return 0 end
            for _, id in ipairs(ids) do
              local rec = redis.call('HGET', P .. 'job', id)
              if rec then
                local _, _, _, _, _, ukey = parse(rec)
                if ukey and ukey ~= '' and redis.call('HGET', P .. 'uniq', ukey) == id then
                  redis.call('HDEL', P .. 'uniq', ukey)
                end
                redis.call('HDEL', P .. 'job', id)
              end
            end
            redis.call('HINCRBY', P .. 'stats', 'purged', #ids)
            return #ids
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
