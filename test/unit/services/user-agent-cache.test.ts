import { expect } from 'chai';
import { UserAgentCache } from '../../../server/services/user-agent-cache.js';
import { parseUserAgent } from '../../../vendors/registry.js';

/** Yealink User-Agents of `n` phones (each carries its MAC, as real ones do). */
function yealinkAgents(n: number): string[] {
  return Array.from({ length: n }, (_, i) => `Yealink SIP-T54W 96.86.0.100 80:5e:c0:${[16, 8, 0].map((s) => ((i >> s) & 255).toString(16).padStart(2, '0')).join(':')}`);
}

function counting() {
  const calls = { n: 0 };
  return { calls, parse: (ua: string) => (calls.n++, parseUserAgent(ua)) };
}

describe('User-Agent cache', () => {
  it('answers what the vendor parser answers, hit or miss', () => {
    const cache = new UserAgentCache(4);
    for (const ua of [...yealinkAgents(6), 'curl/8.0', ...yealinkAgents(6)]) {
      expect(cache.parse(ua)).to.deep.equal(parseUserAgent(ua));
    }
  });

  it('phones polling in turn, more of them than it holds, still mostly hit (no evict-before-use)', () => {
    // 120 phones over a 100-entry cache, ten rounds in the same order. Evicting the oldest entry
    // to admit each new one would parse on all 1,200 lookups.
    const { calls, parse } = counting();
    const cache = new UserAgentCache(100, parse);
    const agents = yealinkAgents(120);
    for (let round = 0; round < 10; round++) for (const ua of agents) cache.parse(ua);
    expect(calls.n).to.be.below(500);
    expect(cache.size).to.be.at.most(100);
  });

  it('fewer phones than it holds: each string is parsed once', () => {
    const { calls, parse } = counting();
    const cache = new UserAgentCache(100, parse);
    const agents = yealinkAgents(80);
    for (let round = 0; round < 5; round++) for (const ua of agents) cache.parse(ua);
    expect(calls.n).to.equal(80);
  });

  it('by default a 10,000-phone site is parsed once: every later round is served from the cache', () => {
    const { calls, parse } = counting();
    const cache = new UserAgentCache(undefined, parse);
    const agents = yealinkAgents(10_000);
    for (let round = 0; round < 3; round++) for (const ua of agents) cache.parse(ua);
    expect(calls.n).to.equal(10_000);
  });

  it('strings that stop coming leave: after a full round of new ones it starts again', () => {
    const { calls, parse } = counting();
    const cache = new UserAgentCache(50, parse);
    const before = yealinkAgents(50);
    const after = before.map((ua) => ua.replace('96.86.0.100', '96.86.0.120')); // firmware upgrade
    for (const ua of before) cache.parse(ua);
    for (let round = 0; round < 3; round++) for (const ua of after) cache.parse(ua);
    expect(cache.size).to.be.at.most(50);
    const parsedBefore = calls.n;
    for (const ua of after) cache.parse(ua);
    expect(calls.n - parsedBefore, 'the upgraded phones are served from the cache now').to.equal(0);
  });
});
