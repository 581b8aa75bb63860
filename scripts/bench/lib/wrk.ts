/**
 * wrk as a second opinion for requests/s: a Lua script rotates over a list of
 * (path, User-Agent) pairs, each thread starting at a different place.
 */
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const WRK = '/usr/bin/wrk';

export function ensureWrk(): void {
  if (existsSync(WRK)) return;
  console.log('wrk missing: apt-get install -y wrk');
  execFileSync('apt-get', ['update', '-qq'], { stdio: 'inherit' });
  execFileSync('apt-get', ['install', '-y', '-qq', 'wrk'], { stdio: 'inherit', env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' } });
}

const SCRIPT = `
local paths, uas = {}, {}
local idx = 0
local counter = 0
function setup(thread)
  counter = counter + 1
  thread:set("tid", counter)
end
function init(args)
  for line in io.lines(args[1]) do
    local p, ua = line:match("^([^\\t]+)\\t(.*)$")
    if p then paths[#paths + 1] = p; uas[#uas + 1] = ua end
  end
  idx = math.floor(#paths * ((tid or 1) - 1) / 8)
end
function request()
  idx = idx % #paths + 1
  return wrk.format("GET", paths[idx], { ["User-Agent"] = uas[idx] })
end
function done(summary, latency, requests)
  io.write(string.format('WRKJSON {"requests":%d,"seconds":%f,"connect":%d,"read":%d,"write":%d,"status":%d,"timeout":%d,"p50":%f,"p99":%f,"max":%f}\\n',
    summary.requests, summary.duration / 1e6, summary.errors.connect, summary.errors.read, summary.errors.write,
    summary.errors.status, summary.errors.timeout, latency:percentile(50) / 1000, latency:percentile(99) / 1000, latency.max / 1000))
end
`;

export interface WrkResult {
  reqPerSec: number;
  requests: number;
  errors: number;
  non2xx: number;
  p50: number;
  p99: number;
  max: number;
}

export function runWrk(dir: string, url: string, list: Array<[string, string]>, connections: number, seconds: number, threads = 2): WrkResult {
  ensureWrk();
  const script = join(dir, 'rotate.lua');
  const listFile = join(dir, 'paths.tsv');
  writeFileSync(script, SCRIPT);
  writeFileSync(listFile, list.map(([p, ua]) => `/${p}\t${ua}`).join('\n') + '\n');
  const out = execFileSync(WRK, ['-t', String(threads), '-c', String(connections), '-d', `${seconds}s`, '--timeout', '10s', '-s', script, url, '--', listFile], {
    encoding: 'utf8',
    maxBuffer: 16 * 1024 * 1024,
  });
  return summaryOf(out);
}

/** The WRKJSON line both scripts print from done(). */
function summaryOf(out: string): WrkResult {
  const line = out.split('\n').find((l) => l.startsWith('WRKJSON '));
  if (!line) throw new Error(`wrk printed no summary:\n${out}`);
  const r = JSON.parse(line.slice(8)) as Record<string, number>;
  const num = (k: string) => r[k] ?? 0;
  return {
    reqPerSec: Math.round(num('requests') / num('seconds')),
    requests: num('requests'),
    errors: num('connect') + num('read') + num('write') + num('timeout'),
    non2xx: num('status'),
    p50: Math.round(num('p50') * 100) / 100,
    p99: Math.round(num('p99') * 100) / 100,
    max: Math.round(num('max') * 100) / 100,
  };
}

/**
 * Each path once (first fetches): thread t of T takes every T-th line. A thread whose list is
 * done stops; until its last answers arrive, a connection that has nothing left to ask sends a
 * HEAD for a file already fetched (bodiless, so it is told apart and not counted), because wrk
 * must get a request from every request() call. The rate is the real answers over the time from
 * the first request to the last real answer; wrk's latency histogram includes those few HEADs.
 * wrk sleeps out its -d whatever its threads do, so it is interrupted once every thread is done.
 * (wrk 4 calls the first thread's request() once before starting, to check it; that call takes no path.)
 */
const ONCE_SCRIPT = `
local ffi = require("ffi")
ffi.cdef[[ typedef struct { long tv_sec; long tv_nsec; } wrk_ts; int clock_gettime(int clk, wrk_ts *tp); ]]
local ts = ffi.new("wrk_ts")
local function now() ffi.C.clock_gettime(1, ts); return tonumber(ts.tv_sec) + tonumber(ts.tv_nsec) / 1e9 end
local threads = {}
local counter = 0
function setup(thread)
  counter = counter + 1
  thread:set("tid", counter)
  table.insert(threads, thread)
end
local paths, uas = {}, {}
local idx, got, non2xx = 0, 0, 0
-- wrk calls the first thread's request() once before the run to check it: not a real request.
local checked = false
function init(args)
  checked = tid ~= 1
  local of = tonumber(args[2])
  local n = 0
  for line in io.lines(args[1]) do
    local p, ua = line:match("^([^\\t]+)\\t(.*)$")
    if p then
      if n % of == tid - 1 then paths[#paths + 1] = p; uas[#uas + 1] = ua end
      n = n + 1
    end
  end
  wrk.thread:set("t0", 0)
  wrk.thread:set("t1", 0)
  wrk.thread:set("real", 0)
  wrk.thread:set("non2xx", 0)
  if #paths == 0 then io.write("WRKDONE\\n"); io.flush(); wrk.thread:stop() end
end
function request()
  if not checked then
    checked = true
    return wrk.format("GET", paths[1] or "/", {})
  end
  if idx == 0 then wrk.thread:set("t0", now()) end
  if idx < #paths then
    idx = idx + 1
    return wrk.format("GET", paths[idx], { ["User-Agent"] = uas[idx] })
  end
  return wrk.format("HEAD", paths[#paths], { ["User-Agent"] = uas[#paths] })
end
function response(status, headers, body)
  if body == nil or #body == 0 then return end
  got = got + 1
  if status < 200 or status > 399 then non2xx = non2xx + 1 end
  if got == #paths then
    wrk.thread:set("t1", now())
    wrk.thread:set("real", got)
    wrk.thread:set("non2xx", non2xx)
    io.write("WRKDONE\\n"); io.flush()
    wrk.thread:stop()
  end
end
function done(summary, latency, requests)
  local t0, t1, real, bad = math.huge, 0, 0, 0
  for _, t in ipairs(threads) do
    local a, b = t:get("t0"), t:get("t1")
    if a > 0 and a < t0 then t0 = a end
    if b > t1 then t1 = b end
    real = real + t:get("real")
    bad = bad + t:get("non2xx")
  end
  io.write(string.format('WRKJSON {"requests":%d,"seconds":%f,"connect":%d,"read":%d,"write":%d,"status":%d,"timeout":%d,"p50":%f,"p99":%f,"max":%f}\\n',
    real, t1 - t0, summary.errors.connect, summary.errors.read, summary.errors.write,
    bad, summary.errors.timeout, latency:percentile(50) / 1000, latency:percentile(99) / 1000, latency.max / 1000))
end
`;

/** Every (path, User-Agent) fetched exactly once over C keep-alive connections (see ONCE_SCRIPT). */
export async function runWrkOnce(dir: string, url: string, list: Array<[string, string]>, connections: number, threads = 2, timeoutSeconds = 120): Promise<WrkResult> {
  ensureWrk();
  const script = join(dir, 'once.lua');
  const listFile = join(dir, 'once.tsv');
  writeFileSync(script, ONCE_SCRIPT);
  writeFileSync(listFile, list.map(([p, ua]) => `/${p}\t${ua}`).join('\n') + '\n');
  const wrk = spawn(WRK, ['-t', String(threads), '-c', String(connections), '-d', `${timeoutSeconds}s`, '--timeout', '10s', '-s', script, url, '--', listFile, String(threads)], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let out = '';
  let finished = 0;
  wrk.stdout.setEncoding('utf8');
  wrk.stdout.on('data', (chunk: string) => {
    out += chunk;
    const now = out.split('\n').filter((l) => l === 'WRKDONE').length;
    if (now > finished) {
      finished = now;
      if (finished === threads) wrk.kill('SIGINT');
    }
  });
  await new Promise<void>((resolve, reject) => {
    wrk.once('error', reject);
    wrk.once('close', () => resolve());
  });
  const r = summaryOf(out);
  if (r.requests !== list.length) throw new Error(`wrk answered ${r.requests} of ${list.length} paths within ${timeoutSeconds} s`);
  return r;
}
