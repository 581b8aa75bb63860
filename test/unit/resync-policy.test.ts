/** The resync throttle and retry policy, as pure functions over time. */
import { expect } from 'chai';
import fc from 'fast-check';
import { backoffMs, classify } from '../../server/services/resync-outcome.js';
import { TokenBucket } from '../../server/services/token-bucket.js';

const policy = { maxAttempts: 10, retryBaseMs: 30_000, retryMaxMs: 15 * 60_000 };

describe('resync policy', () => {
  it('backs off 30 s, 1 m, 2 m, 4 m, 8 m, then stays at 15 m', () => {
    expect([0, 1, 2, 3, 4, 5, 6, 40].map((n) => backoffMs(n, policy) / 1000)).to.deep.equal([30, 60, 120, 240, 480, 900, 900, 900]);
  });

  it('retries only 408 and 503, and gives up on the last attempt', () => {
    expect(classify(200, 1, 10)).to.equal('ok');
    expect(classify(202, 10, 10)).to.equal('ok');
    for (const s of [403, 404, 481, 489, 500, 603]) expect(classify(s, 1, 10), String(s)).to.equal('answered');
    expect(classify(408, 9, 10)).to.equal('retry');
    expect(classify(503, 10, 10)).to.equal('gave-up');
  });

  it('the token bucket never lets more than rate + burst start in any 1 s window, however it is polled', () => {
    fc.assert(fc.property(
      fc.integer({ min: 1, max: 500 }),
      fc.array(fc.integer({ min: 0, max: 40 }), { minLength: 50, maxLength: 400 }),
      (rate, steps) => {
        let now = 0;
        const bucket = new TokenBucket(rate, now);
        const sent: number[] = [];
        for (const dt of steps) {
          now += dt;
          while (bucket.tryTake(now)) sent.push(now);
        }
        for (let i = 0, j = 0; i < sent.length; i++) {
          while (j < sent.length && sent[j]! < sent[i]! + 1000) j++;
          if (j - i > rate + bucket.burst) return false;
        }
        return bucket.burst <= Math.max(1, rate * 0.04);
      },
    ));
  });

  it('says how long until the next token, and keeps the long-run rate', () => {
    const bucket = new TokenBucket(20, 0);
    expect(bucket.tryTake(0)).to.equal(true);
    expect(bucket.tryTake(0)).to.equal(false);
    expect(bucket.msUntilToken(0)).to.equal(50);
    let now = 0;
    let n = 1;
    while (now < 10_000) {
      now += bucket.msUntilToken(now);
      if (bucket.tryTake(now)) n++;
    }
    expect(n).to.equal(201);
  });
});
