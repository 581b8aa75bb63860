/**
 * The last answer to each file name, given again only to an identical request and only while
 * nothing changed (server/services/answer-memo.ts). Checked against a model: a plain map of the
 * last answer to every exact request since the last change.
 */
import { expect } from 'chai';
import fc from 'fast-check';
import { AnswerMemo, type MemoRequest } from '../../../server/services/answer-memo.js';

const req = (o: Partial<MemoRequest> = {}): MemoRequest => ({
  method: 'GET',
  name: '001565aabbcc.cfg',
  ip: '10.0.0.9',
  userAgent: 'Yealink SIP-T54W 96.86.0.100 00:15:65:aa:bb:cc',
  ifNoneMatch: null,
  authorization: null,
  ...o,
});

describe('answer memo: an answer given again to an identical request', () => {
  it('is given to the same request, and to no request that differs in method, address, User-Agent, If-None-Match or Authorization', () => {
    const memo = new AnswerMemo<string>(() => 0);
    memo.keep(req(), 'answer');
    // A copy of every string, as each request brings its own.
    expect(memo.get({ ...req(), userAgent: `${req().userAgent!} `.trimEnd() })).to.equal('answer');
    expect(memo.get(req({ method: 'HEAD' }))).to.equal(undefined);
    expect(memo.get(req({ ip: '10.0.0.10' }))).to.equal(undefined);
    expect(memo.get(req({ userAgent: 'Yealink SIP-T54W 96.86.0.100 00:15:65:aa:bb:cd' }))).to.equal(undefined);
    expect(memo.get(req({ userAgent: null }))).to.equal(undefined);
    expect(memo.get(req({ ifNoneMatch: '"x"' }))).to.equal(undefined);
    expect(memo.get(req({ authorization: 'Basic eDp5' }))).to.equal(undefined);
    expect(memo.get(req({ name: '001565aabbcd.cfg' }))).to.equal(undefined);
    const { authorization: _none, ...withoutAuthorization } = req();
    expect(memo.get(withoutAuthorization), 'no Authorization at all is the same as none').to.equal('answer');
  });

  it('drops everything once the epoch moves, and keeps nothing made before it moved', () => {
    let epoch = 0;
    const memo = new AnswerMemo<string>(() => epoch);
    memo.keep(req(), 'a');
    memo.keep(req({ name: 'b.cfg' }), 'b');
    epoch++;
    expect(memo.get(req())).to.equal(undefined);
    expect(memo.size).to.equal(0);
    // Looked up (above), a change, then kept: the answer may be from before the change.
    epoch++;
    memo.keep(req(), 'made before the change');
    expect(memo.get(req())).to.equal(undefined);
  });

  it('once full it takes no new names, and after as many refusals it starts again empty', () => {
    const memo = new AnswerMemo<string>(() => 0, 3);
    for (const n of ['a', 'b', 'c']) memo.keep(req({ name: n }), n);
    memo.keep(req({ name: 'a' }), 'a2');
    expect(memo.get(req({ name: 'a' })), 'a kept name is still replaced').to.equal('a2');
    memo.keep(req({ name: 'd' }), 'd');
    memo.keep(req({ name: 'e' }), 'e');
    expect(memo.get(req({ name: 'd' }))).to.equal(undefined);
    expect(memo.size).to.equal(3);
    memo.keep(req({ name: 'f' }), 'f');
    expect(memo.size, 'emptied at the third refusal').to.equal(0);
  });

  it('property: a kept answer is given exactly to the last request kept under that name, while nothing changed', () => {
    const field = <T>(...xs: T[]) => fc.constantFrom(...xs);
    const request = fc.record({
      method: field('GET', 'HEAD'),
      name: field('a.cfg', 'b.cfg', 'c.cfg'),
      ip: field('10.0.0.1', '10.0.0.2'),
      userAgent: field<string | null>('ua-1', 'ua-2', null),
      ifNoneMatch: field<string | null>(null, '"e1"'),
      authorization: field<string | null>(null, 'Basic eDp5'),
    });
    const step = fc.oneof(
      fc.record({ op: fc.constant('keep' as const), r: request, value: fc.integer() }),
      fc.record({ op: fc.constant('get' as const), r: request }),
      fc.record({ op: fc.constant('change' as const) }),
    );
    fc.assert(
      fc.property(fc.array(step, { maxLength: 80 }), (steps) => {
        let epoch = 0;
        const memo = new AnswerMemo<number>(() => epoch);
        // The model: by name, the last request kept and its answer, since the last change. A keep
        // right after a change (no lookup saw it) keeps nothing: its answer may be from before.
        let model = new Map<string, { r: MemoRequest; value: number }>();
        let changed = false;
        for (const s of steps) {
          if (s.op === 'change') {
            epoch++;
            model = new Map();
            changed = true;
          } else if (s.op === 'keep') {
            memo.keep(s.r, s.value);
            if (!changed) model.set(s.r.name, { r: s.r, value: s.value });
            changed = false;
          } else {
            changed = false;
            const m = model.get(s.r.name);
            const want = m && JSON.stringify(m.r) === JSON.stringify(s.r) ? m.value : undefined;
            expect(memo.get({ ...s.r })).to.equal(want);
          }
        }
      }),
      { numRuns: 300 },
    );
  });
});
