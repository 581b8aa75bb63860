/**
 * A phone worker's caches against the primary's commits (ReplicaCache): the worker here is a
 * second connection to the same SQLite file with the worker's own context and service, as
 * server/cluster/worker.ts builds them, driven request by request.
 */
import { expect } from 'chai';
import { openDatabase, type Db } from '../../db/index.js';
import type { FetchRecord } from '../../db/stores/devices.js';
import type { RenderWrite } from '../../db/stores/rendered-files.js';
import { fromRenderRow, toRenderRow } from '../../server/cluster/protocol.js';
import { ReplicaCache } from '../../server/cluster/replica-cache.js';
import { createContext, type Context } from '../../server/context.js';
import { createLogger } from '../../server/log.js';
import type { ManualClock } from '../../server/services/clock.js';
import { PhoneAccess } from '../../server/services/phone-access.js';
import { DeferToPrimary, ProvisioningService } from '../../server/services/provisioning.js';
import { createHarness, type Harness } from '../helpers/harness.js';
import { MAC as DESK, SIP_PASSWORD, ok, seedOffice } from '../helpers/hotdesk.js';

/** Desk A of the seeded office: a Yealink owned by 100. */
const MAC = DESK.A;
const UA = 'Yealink SIP-T46U 108.86.0.90 00:15:65:aa:bb:01';

describe('a phone worker keeps its caches true to the primary’s commits', () => {
  let h: Harness;
  let db: Db;
  let worker: Context;
  let replica: ReplicaCache;
  let service: ProvisioningService;
  /** What the worker would send the primary: fetch records, renders. */
  let sent: FetchRecord[];
  let handed: RenderWrite[];

  /** One request as the worker answers it: check, then serve. */
  const fetchCfg = () => {
    replica.check();
    return service.handle({ method: 'GET', name: `${MAC}.cfg`, ip: '10.0.0.7', userAgent: UA, ifNoneMatch: null, authorization: null, tls: null });
  };
  /** The primary renders the device's files ahead of any fetch and stores them. */
  const prerender = () => {
    h.ctx.renderer.prerender(h.ctx.stores.devices.get(MAC)!);
    h.ctx.storedRenders.flush();
  };
  /** The primary writes the fetch records the worker sent. */
  const deliver = () => {
    for (const r of sent.splice(0)) h.ctx.recorder.record(r);
    h.ctx.recorder.flush();
  };

  beforeEach(async () => {
    h = createHarness();
    await seedOffice(h);
    startWorker();
  });
  /** A worker over the harness's database: its own connection and context, renders handed over as worker.ts does. */
  const startWorker = () => {
    db = openDatabase(h.dbPath);
    worker = createContext({ config: h.config, db, clock: h.clock, log: createLogger('silent'), stores: { cacheFiles: false }, replica: true });
    handed = [];
    worker.storedRenders.useSink({ write: (batch, done) => (handed.push(...batch), done(batch.length), true), sync: () => {} });
    sent = [];
    service = new ProvisioningService({
      config: h.config, devices: worker.stores.devices, files: worker.stores.files, renderer: worker.renderer,
      recorder: { record: (r) => void sent.push(r) }, guard: { blockedFor: () => 0, fail: () => {} },
      clock: h.clock, log: createLogger('silent'), replica: true,
      access: new PhoneAccess(worker.downloadAuth, { fail: () => {} }, createLogger('silent'), { allowlist: [], requireClientCert: false }),
    });
    replica = new ReplicaCache(db, worker.stores.deviceChanges, worker.stores.devices, worker.catalog);
  };
  afterEach(() => {
    db.close();
    h.destroy();
  });

  it('a phone fetching a new version re-reads the head and keeps the render in memory', () => {
    prerender();
    const first = fetchCfg();
    expect(first.status).to.equal(200);
    expect(worker.renderer.stats.stored, 'first served from the stored render').to.equal(1);
    expect(worker.stores.devices.head(MAC)!.fetchedVersion).to.equal(null);

    deliver(); // the primary writes fetched_version: a fetched note
    const again = fetchCfg();
    expect(again.status).to.equal(200);
    const head = worker.stores.devices.head(MAC)!;
    expect(head.fetchedVersion, 'the head was read again').to.equal(head.configVersion);
    expect(worker.renderer.stats.hits, 'served from memory').to.equal(1);
    expect(worker.renderer.stats.stored, 'not read from SQLite again').to.equal(1);
    expect(again.body).to.deep.equal(first.body);
  });

  it('a real change drops the render: the worker renders the new one and hands it to the primary, writing nothing itself', async () => {
    prerender();
    expect(fetchCfg().body.toString()).to.include(SIP_PASSWORD('100'));
    deliver();
    ok(await h.http.patch(`/api/v1/devices/${MAC}`).set('Authorization', h.auth).send({ ownerExtension: '200' }));
    const version = h.ctx.stores.devices.head(MAC)!.configVersion;
    const next = fetchCfg();
    expect(next.body.toString(), 'never the old owner').to.include(SIP_PASSWORD('200')).and.not.include(SIP_PASSWORD('100'));
    expect(worker.renderer.stats.misses, 'rendered by the worker').to.equal(1);

    worker.storedRenders.flush();
    expect(handed.map((r) => [r.mac, r.configVersion]), 'handed to the primary').to.deep.equal([[MAC, version]]);
    expect(h.ctx.stores.renderedFiles.get(MAC, 'device')?.configVersion, 'the worker wrote no row').to.be.below(version);
    // The primary stores what arrives over the channel (as JSON); a fresh process serves it unrendered.
    for (const w of handed.splice(0)) h.ctx.storedRenders.save(fromRenderRow(JSON.parse(JSON.stringify(toRenderRow(w))))!);
    h.ctx.storedRenders.flush();
    const fresh = createContext({ config: h.config, db: h.db, clock: h.clock, log: createLogger('silent') });
    expect(fresh.renderer.deviceFile(fresh.stores.devices.head(MAC)!, 'device')?.body).to.deep.equal(next.body);
    expect(fresh.renderer.stats, 'served from the stored render').to.include({ stored: 1, misses: 0 });
  });

  it('download auth the primary turns on after the worker found no download-auth row at all reaches the worker', async () => {
    expect(h.db.prepare('SELECT count(*) AS n FROM device_download_auth').get()).to.deep.equal({ n: 0 });
    expect(fetchCfg().status).to.equal(200);
    ok(await h.http.put(`/api/v1/devices/${MAC}/download-auth`).set('Authorization', h.auth).send({ mode: 'enforce' }));
    (h.clock as ManualClock).advance(2 * 3600_000); // past a new device's grace (security.downloadAuth.newDeviceGrace)
    expect(fetchCfg().status, 'enforced by the worker too').to.equal(401);
  });

  it('a render that would make a device\'s first download credentials is passed to the primary', async () => {
    db.close();
    h.destroy();
    h = createHarness({ config: { security: { downloadAuth: { defaultMode: 'provision' } } } });
    await seedOffice(h);
    startWorker();
    const before = h.db.prepare('SELECT count(*) AS n FROM device_download_auth').get();
    expect(fetchCfg, 'the worker makes no credentials').to.throw(DeferToPrimary);
    expect(h.db.prepare('SELECT count(*) AS n FROM device_download_auth').get()).to.deep.equal(before);
    // Once the primary has answered (and made them), the worker renders with them.
    const primary = h.ctx.provisioning.handle({ method: 'GET', name: `${MAC}.cfg`, ip: '10.0.0.7', userAgent: UA, ifNoneMatch: null, authorization: null, tls: null });
    expect(primary.status).to.equal(200);
    const mine = fetchCfg();
    expect(mine.status).to.equal(200);
    expect(mine.body.toString()).to.equal(primary.body.toString());
  });
});
