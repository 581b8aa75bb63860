/**
 * What a phone worker tells the primary (server/cluster/protocol.ts): a fetch record sent as a row
 * arrives as the same record, every field in its place.
 */
import { expect } from 'chai';
import fc from 'fast-check';
import type { FetchRecord } from '../../db/stores/devices.js';
import type { RenderWrite } from '../../db/stores/rendered-files.js';
import { fromFetchRow, fromRenderRow, isFromWorker, toFetchRow, toRenderRow } from '../../server/cluster/protocol.js';
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

const render: fc.Arbitrary<RenderWrite> = fc.record({
  mac: fc.stringMatching(/^[0-9a-f]{12}$/),
  template: fc.constantFrom('device', 'master', 'boot'),
  stamp: fc.string({ maxLength: 30 }),
  configVersion: fc.nat(),
  // Rendered text (any string, lone surrogates included), or bytes that are not UTF-8.
  body: fc.oneof(fc.string({ unit: 'binary', maxLength: 200 }).map((t) => Buffer.from(t, 'utf8')), fc.uint8Array({ maxLength: 64 }).map((b) => Buffer.from(b))),
  etag: fc.string({ maxLength: 24 }),
  contentType: fc.constantFrom('text/plain; charset=utf-8', 'application/xml'),
  lineUser: text,
  extension: text,
  deviceCreatedAt: fc.nat(),
  renderedAt: fc.nat(),
});

describe('worker protocol', () => {
  it('a render sent as a row over JSON arrives as the same render, byte for byte', () => {
    fc.assert(
      fc.property(fc.array(render, { maxLength: 10 }), (renders) => {
        const sent = JSON.parse(JSON.stringify({ type: 'renders', rows: renders.map(toRenderRow) })) as unknown;
        expect(isFromWorker(sent)).to.equal(true);
        const arrived = (sent as { rows: unknown[] }).rows.map(fromRenderRow);
        expect(arrived).to.deep.equal(renders);
      }),
    );
  });

  it('a render row that is not one is refused, field by field', () => {
    const good = toRenderRow({ mac: '001565aabbcc', template: 'device', stamp: 's', configVersion: 3, body: Buffer.from('x = 1\n'), etag: '"e"', contentType: 'text/plain', lineUser: null, extension: '100', deviceCreatedAt: 1, renderedAt: 2 });
    expect(fromRenderRow(good)).to.not.equal(null);
    const wrong: unknown[] = [7, null, 1, '3', 5, 'hex', null, 1, 2, 3, '1', 1.5];
    for (let i = 0; i < good.length; i++) {
      const row: unknown[] = [...good];
      row[i] = wrong[i];
      expect(fromRenderRow(row), `field ${i}`).to.equal(null);
    }
    expect(fromRenderRow([...good, 'extra'])).to.equal(null);
    expect(fromRenderRow('row')).to.equal(null);
  });

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
