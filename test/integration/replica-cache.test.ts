/**
 * A phone worker's caches against the primary's commits (ReplicaCache): the worker here is a
 * second connection to the same SQLite file with the worker's own context and service, as
 * server/cluster/worker.ts builds them, driven request by request.
 */
import { expect } from 'chai';
import { openDatabase, type Db } from '../../db/index.js';
import type { FetchRecord } from '../../db/stores/devices.js';
import { ReplicaCache } from '../../server/cluster/replica-cache.js';
import { createContext, type Context } from '../../server/context.js';
import { createLogger } from '../../server/log.js';
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
  /** What the worker would send the primary. */
  let sent: FetchRecord[];

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
    db = openDatabase(h.dbPath);
    worker = createContext({ config: h.config, db, clock: h.clock, log: createLogger('silent'), stores: { cacheFiles: false } });
    sent = [];
    service = new ProvisioningService({
      config: h.config, devices: worker.stores.devices, files: worker.stores.files, renderer: worker.renderer,
      recorder: { record: (r) => void sent.push(r) }, guard: { blockedFor: () => 0, fail: () => {} },
      clock: h.clock, log: createLogger('silent'), replica: true,
    });
    replica = new ReplicaCache(db, worker.stores.deviceChanges, worker.stores.devices, worker.catalog);
  });
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

  it('a real change still drops the render: the worker defers until the new one is stored, then serves it', async () => {
    prerender();
    expect(fetchCfg().body.toString()).to.include(SIP_PASSWORD('100'));
    deliver();
    ok(await h.http.patch(`/api/v1/devices/${MAC}`).set('Authorization', h.auth).send({ ownerExtension: '200' }));
    expect(fetchCfg, 'never the old owner').to.throw(DeferToPrimary);
    prerender();
    const next = fetchCfg();
    expect(next.body.toString()).to.include(SIP_PASSWORD('200')).and.not.include(SIP_PASSWORD('100'));
  });
});
