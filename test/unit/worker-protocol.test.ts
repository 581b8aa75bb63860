/**
 * What a phone worker tells the primary (server/cluster/protocol.ts): a fetch record sent as a row
 * arrives as the same record, every field in its place.
 */
import { expect } from 'chai';
import fc from 'fast-check';
import type { FetchRecord } from '../../db/stores/devices.js';
import { fromFetchRow, isFromWorker, toFetchRow } from '../../server/cluster/protocol.js';
import type { Mac } from '../../server/domain/mac.js';

const text = fc.option(fc.string({ maxLength: 40 }), { nil: null });
const record: fc.Arbitrary<FetchRecord> = fc.record({
  mac: fc.stringMatching(/^[0-9a-f]{12}$/).map((m) => m as Mac),
  at: fc.nat(),
  ip: fc.ipV4(),
  userAgent: text,
  model: text,
  firmware: text,
  file: fc.string({ minLength: 1, maxLength: 40 }),
  status: fc.integer({ min: 100, max: 599 }),
  configVersion: fc.option(fc.nat(), { nil: null }),
  lineUser: text,
  extension: text,
}).chain((f) =>
  // A repeat record (server/services/fetch-folds.ts) carries two more fields.
  fc.option(fc.record({ repeats: fc.integer({ min: 1, max: 1_000_000 }), lastAt: fc.nat() }), { nil: null }).map((r) => (r ? { ...f, ...r } : f)),
);

describe('worker protocol', () => {
  it('a fetch record sent as a row over JSON arrives as the same record', () => {
    fc.assert(
      fc.property(fc.array(record, { maxLength: 20 }), (records) => {
        const sent = JSON.parse(JSON.stringify({ type: 'fetches', rows: records.map(toFetchRow) })) as unknown;
        expect(isFromWorker(sent)).to.equal(true);
        const arrived = (sent as { rows: Parameters<typeof fromFetchRow>[0][] }).rows.map(fromFetchRow);
        expect(arrived).to.deep.equal(records);
      }),
    );
  });

  it('a fetches message without rows is not taken for one', () => {
    expect(isFromWorker({ type: 'fetches', records: [] })).to.equal(false);
    expect(isFromWorker({ type: 'fetches', rows: 'x' })).to.equal(false);
  });
});
