/**
 * Repeated fetches folded into one fetch-log row (server/services/fetch-folds.ts). What the
 * folds send out is applied here the way DeviceStore.writeFetches applies it (a row, or a repeat
 * counted on the newest row with the same mac, file and time), and the log must still account
 * for every fetch: each row stands for itself and its repeats, all with the same answer.
 */
import { expect } from 'chai';
import fc from 'fast-check';
import type { FetchRecord } from '../../../db/stores/devices.js';
import type { Mac } from '../../../server/domain/mac.js';
import { FetchFolds, REPORTS_PER_CHECK, type FetchFold } from '../../../server/services/fetch-folds.js';

const WINDOW = 60_000;
const EVERY = 10_000;

interface Row {
  f: FetchRecord;
  repeats: number;
  lastAt: number | null;
}

/** The fetch log as the store keeps it. */
function logOf(): { rows: Row[]; apply: (r: FetchRecord) => void } {
  const rows: Row[] = [];
  const apply = (r: FetchRecord) => {
    if (r.repeats === undefined) return void rows.push({ f: r, repeats: 0, lastAt: null });
    const row = [...rows].reverse().find((x) => x.f.mac === r.mac && x.f.file === r.file && x.f.at === r.at);
    if (!row) {
      const { repeats, lastAt, ...fetched } = r;
      return void rows.push({ f: { ...fetched, at: lastAt! }, repeats: repeats - 1, lastAt: repeats > 1 ? lastAt! : null });
    }
    row.repeats += r.repeats;
    row.lastAt = Math.max(row.lastAt ?? 0, r.lastAt!);
  };
  return { rows, apply };
}

const fetchOf = (o: Partial<FetchRecord> & { at: number }): FetchRecord => ({
  mac: '001565aabbcc' as Mac, ip: '10.0.0.9', userAgent: 'Yealink SIP-T54W 96.86.0.100 00:15:65:aa:bb:cc', model: 'T54W',
  firmware: '96.86.0.100', file: '001565aabbcc.cfg', status: 200, configVersion: 3, lineUser: '1001', extension: '1001', ...o,
});
/** What makes two fetches the same answer, as a string (file and mac included). */
const answerOf = (f: FetchRecord) => JSON.stringify([f.mac, f.file, f.ip, f.userAgent, f.model, f.firmware, f.status, f.configVersion, f.lineUser, f.extension]);

describe('fetch folds: repeated fetches counted on one row', () => {
  it('a phone asking for the same file five times gets one row that counts four repeats, the newest time kept', () => {
    const log = logOf();
    const folds = new FetchFolds(log.apply, { windowMs: WINDOW });
    for (let i = 0; i < 5; i++) folds.record(fetchOf({ at: 1000 + i * 100 }));
    folds.flush();
    expect(log.rows).to.have.length(1);
    expect(log.rows[0]).to.include({ repeats: 4, lastAt: 1400 });
    expect(log.rows[0]!.f.at).to.equal(1000);
  });

  it('the first repeat is reported at once (a phone back after a NOTIFY shows as soon as a new row would), the rest when due', () => {
    const out: FetchRecord[] = [];
    const folds = new FetchFolds((r) => out.push(r), { windowMs: WINDOW, reportEveryMs: EVERY });
    folds.record(fetchOf({ at: 1000 }));
    folds.record(fetchOf({ at: 2000 }));
    expect(out.map((r) => r.repeats ?? 0)).to.deep.equal([0, 1]);
    expect(out[1]).to.include({ at: 1000, lastAt: 2000 });
    folds.record(fetchOf({ at: 3000 }));
    folds.record(fetchOf({ at: 4000 }));
    folds.due(2000 + EVERY - 1);
    expect(out, 'not due yet').to.have.length(2);
    folds.due(2000 + EVERY);
    expect(out[2]).to.include({ repeats: 2, at: 1000, lastAt: 4000 });
  });

  it('a different answer gets its own row at once: another config version, status, address or User-Agent', () => {
    const log = logOf();
    const folds = new FetchFolds(log.apply, { windowMs: WINDOW });
    folds.record(fetchOf({ at: 1000 }));
    folds.record(fetchOf({ at: 1100 }));
    folds.record(fetchOf({ at: 1200 }));
    folds.record(fetchOf({ at: 1300, configVersion: 4 }));
    folds.record(fetchOf({ at: 1400, configVersion: 4, status: 304 }));
    folds.record(fetchOf({ at: 1500, configVersion: 4, status: 304, ip: '10.0.0.10' }));
    folds.record(fetchOf({ at: 1600, configVersion: 4, status: 304, ip: '10.0.0.10', userAgent: 'Yealink SIP-T54W 96.86.0.120 00:15:65:aa:bb:cc' }));
    // No flush: what the first fold counted was reported before the next row, in order.
    expect(log.rows.map((r) => [r.f.at, r.repeats])).to.deep.equal([[1000, 2], [1300, 0], [1400, 0], [1500, 0], [1600, 0]]);
  });

  it('after the window a repeat starts a new row, so a phone that keeps polling shows a row a window', () => {
    const log = logOf();
    const folds = new FetchFolds(log.apply, { windowMs: WINDOW, jitter: 0 });
    for (let t = 0; t < 3 * WINDOW; t += 5000) folds.record(fetchOf({ at: 1000 + t }));
    folds.flush();
    expect(log.rows.map((r) => [r.f.at, r.repeats, r.lastAt])).to.deep.equal([
      [1000, 11, 56_000],
      [61_000, 11, 116_000],
      [121_000, 11, 176_000],
    ]);
  });

  it('a fold held by the caller counts a repeat without a lookup while open; once it ended, the fetch is recorded anew', () => {
    const log = logOf();
    const folds = new FetchFolds(log.apply, { windowMs: WINDOW, jitter: 0 });
    const fold = folds.record(fetchOf({ at: 1000 }))!;
    expect(folds.repeat(fold, 2000)).to.equal(true);
    expect(folds.repeat(fold, 999), 'before its first fetch').to.equal(false);
    expect(folds.repeat(fold, 1000 + WINDOW), 'at the end of its window').to.equal(false);
    folds.record(fetchOf({ at: 3000, ip: '10.0.0.10' })); // another answer ends the fold
    expect(fold.ended).to.equal(true);
    expect(folds.repeat(fold, 4000)).to.equal(false);
    folds.flush();
    expect(log.rows.map((r) => [r.f.at, r.repeats, r.lastAt])).to.deep.equal([[1000, 1, 2000], [3000, 0, null]]);
  });

  it('window 0 keeps a row for every fetch and sends the records untouched', () => {
    const out: FetchRecord[] = [];
    const folds = new FetchFolds((r) => out.push(r), { windowMs: 0 });
    const sent = [fetchOf({ at: 1 }), fetchOf({ at: 2 }), fetchOf({ at: 3 })];
    for (const f of sent) folds.record(f);
    expect(out).to.deep.equal(sent);
    expect(folds.size).to.equal(0);
  });

  it('at its bound the oldest fold closes and reports what it counted; due() closes folds whose window ended', () => {
    const log = logOf();
    const folds = new FetchFolds(log.apply, { windowMs: WINDOW, maxOpen: 2, jitter: 0 });
    const a = (at: number) => fetchOf({ at, file: 'a.cfg' });
    folds.record(a(1000));
    folds.record(a(1100));
    folds.record(a(1200));
    folds.record(fetchOf({ at: 1300, file: 'b.cfg' }));
    folds.record(fetchOf({ at: 1400, file: 'c.cfg' })); // a.cfg's fold makes room
    expect(folds.size).to.equal(2);
    expect(log.rows.find((r) => r.f.file === 'a.cfg')).to.include({ repeats: 2, lastAt: 1200 });
    folds.due(1300 + WINDOW);
    expect(folds.size, 'b.cfg ended, c.cfg has 100 ms left').to.equal(1);
  });

  it('folds opened together end spread over the last quarter of the window, never after it', () => {
    const log = logOf();
    const folds = new FetchFolds(log.apply, { windowMs: WINDOW });
    const macs = Array.from({ length: 400 }, (_, i) => i.toString(16).padStart(12, '0') as Mac);
    for (const mac of macs) folds.record(fetchOf({ mac, file: `${mac}.cfg`, at: 1000 }));
    const open = [folds.size];
    for (let t = 1000 + WINDOW * 0.75 - 1000; t <= 1000 + WINDOW; t += 1000) {
      folds.due(t);
      open.push(folds.size);
    }
    expect(open[0]).to.equal(400);
    expect(open[1], 'none ends before the last quarter').to.equal(400);
    expect(open.at(-1), 'all have ended at the window').to.equal(0);
    expect(new Set(open).size, 'ending over many seconds, not in one').to.be.above(10);
  });

  it(`reports at most ${REPORTS_PER_CHECK} folds a check, the rest at the next`, () => {
    const out: FetchRecord[] = [];
    const folds = new FetchFolds((r) => out.push(r), { windowMs: WINDOW, reportEveryMs: EVERY });
    const n = REPORTS_PER_CHECK + 500;
    for (let i = 0; i < n; i++) {
      const mac = i.toString(16).padStart(12, '0') as Mac;
      for (const at of [1000, 1001, 1002]) folds.record(fetchOf({ mac, file: `${mac}.cfg`, at }));
    }
    out.length = 0;
    folds.due(1001 + EVERY);
    expect(out).to.have.length(REPORTS_PER_CHECK);
    folds.due(1001 + EVERY + 1000);
    expect(out).to.have.length(n);
    expect(out.every((r) => r.repeats === 1)).to.equal(true);
  });

  it('property: every fetch is accounted for, on a row with its own answer, within the window of the row', () => {
    const fetches = fc.array(
      fc.record({
        gap: fc.integer({ min: 0, max: 30_000 }),
        mac: fc.constantFrom('001565000001', '001565000002'),
        file: fc.constantFrom('a.cfg', 'b.cfg'),
        ip: fc.constantFrom('10.0.0.1', '10.0.0.2'),
        status: fc.constantFrom(200, 304),
        configVersion: fc.constantFrom(1, 2),
        checkAfter: fc.boolean(),
        // Counted as an answer given again is (answer-memo.ts): on the fold the last fetch with the
        // same answer got, without a lookup, and recorded when that fold has ended.
        again: fc.boolean(),
      }),
      { maxLength: 200 },
    );
    fc.assert(
      fc.property(fetches, fc.integer({ min: 1, max: 4 }), (steps, maxOpen) => {
        const log = logOf();
        const folds = new FetchFolds(log.apply, { windowMs: WINDOW, reportEveryMs: EVERY, maxOpen });
        let at = 1000;
        const sent: FetchRecord[] = [];
        const last = new Map<string, number>();
        const heldFolds = new Map<string, FetchFold>();
        for (const s of steps) {
          at += s.gap;
          const f = fetchOf({ at, mac: s.mac as Mac, file: s.file, ip: s.ip, status: s.status, configVersion: s.configVersion });
          sent.push(f);
          last.set(`${f.mac}/${f.file}`, at);
          const held = s.again ? heldFolds.get(answerOf(f)) : undefined;
          if (held === undefined || !folds.repeat(held, at)) {
            const fold = folds.record(f);
            if (fold) heldFolds.set(answerOf(f), fold);
          }
          if (s.checkAfter) folds.due(at);
        }
        folds.flush();
        // Every fetch, once: each row stands for 1 + repeats fetches with its answer.
        const count = (xs: Array<[string, number]>) => {
          const m = new Map<string, number>();
          for (const [k, n] of xs) m.set(k, (m.get(k) ?? 0) + n);
          return [...m].sort();
        };
        expect(count(log.rows.map((r) => [answerOf(r.f), 1 + r.repeats]))).to.deep.equal(count(sent.map((f) => [answerOf(f), 1])));
        for (const r of log.rows) {
          if (r.repeats > 0) expect(r.lastAt! - r.f.at).to.be.lessThan(WINDOW).and.at.least(0);
          else expect(r.lastAt).to.equal(null);
        }
        // The newest row of a device's file holds the time of its newest fetch.
        for (const [key, t] of last) {
          const newest = [...log.rows].reverse().find((r) => `${r.f.mac}/${r.f.file}` === key)!;
          expect(newest.lastAt ?? newest.f.at, key).to.equal(t);
        }
      }),
      { numRuns: 300 },
    );
  });
});
