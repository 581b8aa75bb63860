/**
 * wrk as a second opinion for requests/s: a Lua script rotates over a list of
 * (path, User-Agent) pairs, each thread starting at a different place.
 */
import { execFileSync } from 'node:child_process';
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
