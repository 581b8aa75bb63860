/**
 * Resync through deskprov's SIP client to a real SIPp phone on 127.0.0.1: the outbox row, the
 * NOTIFY on the wire, the digest answer with the line the phone last fetched, and what the
 * device then shows. Skipped only when /usr/bin/sipp is missing outside CI.
 */
import { expect } from 'chai';
import { createResyncDispatcher } from '../../server/context.js';
import type { ResyncDispatcher } from '../../server/services/resync.js';
import { SipNotifyClient } from '../../server/sip/client.js';
import { createHarness, type Harness } from '../helpers/harness.js';
import { yealinkConfig } from '../helpers/hotdesk.js';
import { requireSipp, startSipp, waitFor, type Sipp } from '../helpers/sipp.js';

const MAC = '001565c0ffee';

describe('resync against a SIPp phone', function () {
  this.timeout(30_000);
  let h: Harness;
  let client: SipNotifyClient;
  let dispatcher: ResyncDispatcher;
  let sipp: Sipp | null = null;

  before(function () {
    requireSipp(this);
  });
  beforeEach(async () => {
    // A high rate so the (frozen) manual clock never holds a NOTIFY back in these single-NOTIFY tests.
    h = createHarness({ config: { sip: { maxNotifiesPerSecond: 1000 } } });
    client = new SipNotifyClient({ bindHost: '127.0.0.1', port: 0 });
    await client.start();
    dispatcher = createResyncDispatcher(h.ctx, client);
    dispatcher.start();
  });
  afterEach(async () => {
    await dispatcher.stop(1000);
    await client.close();
    sipp?.kill();
    sipp = null;
    h.destroy();
  });

  const post = (path: string, body: object = {}) => h.http.post(path).set('Authorization', h.auth).send(body);
  const lastLog = () => h.db.prepare('SELECT status, reason, outcome, transmissions, target, event FROM notify_log WHERE mac = ? ORDER BY id DESC').get(MAC) as
    { status: number; reason: string; outcome: string; transmissions: number; target: string; event: string } | undefined;

  /** User 101 (SIP user phone1) owns a Yealink whose sipContact is SIPp; the phone has fetched line phone1. */
  async function deskWithPhone(sipPassword: string, scenario: string): Promise<void> {
    sipp = await startSipp({ scenario, calls: 1, timeout: '20s' });
    expect((await post('/api/v1/users', { extension: '101', displayName: 'Phone One', sipUsername: 'phone1', sipPassword })).status).to.equal(201);
    expect((await post('/api/v1/devices', { mac: MAC, vendor: 'yealink', model: 'T46U', ownerExtension: '101', sipContact: `sip:127.0.0.1:${sipp.port}` })).status).to.equal(201);
    await yealinkConfig(h, MAC);
    h.ctx.recorder.flush();
    h.db.prepare('DELETE FROM outbox').run();
  }

  it('UDP: the phone answers 200; notify_log and the device sync show it', async () => {
    await deskWithPhone('whatever-1', 'uas_notify_200.xml');
    expect((await post(`/api/v1/devices/${MAC}/resync`)).status).to.equal(202);
    const row = await waitFor('the NOTIFY result', lastLog);
    expect(row).to.include({ status: 200, reason: 'OK', outcome: 'ok', transmissions: 1, event: 'check-sync;reboot=true', target: `udp:127.0.0.1:${sipp!.port}` });
    expect(await sipp!.exited, `SIPp passed: ${sipp!.stderr()}`).to.equal(0);
    const device = await h.http.get(`/api/v1/devices/${MAC}`).set('Authorization', h.auth);
    expect(device.body.sync).to.deep.include({ pending: false, fetchedAfterNotify: false, stale: false });
    expect(device.body.sync.lastNotify).to.include({ status: 200, transmissions: 1 });
    expect(h.ctx.stores.outbox.depth()).to.equal(0);
  });

  it('401 challenge answered with the fetched line phone1 / s3cret → 200', async () => {
    await deskWithPhone('s3cret', 'uas_notify_401.xml');
    expect((await post(`/api/v1/devices/${MAC}/resync`)).status).to.equal(202);
    const row = await waitFor('the NOTIFY result', lastLog);
    expect(row).to.include({ status: 200, outcome: 'ok', transmissions: 2 });
    expect(await sipp!.exited).to.equal(0);
  });

  it('a wrong line password: the phone\'s 403 is recorded in notify_log and sync, and not retried', async () => {
    await deskWithPhone('not-the-phones-password', 'uas_notify_401.xml');
    expect((await post(`/api/v1/devices/${MAC}/resync`)).status).to.equal(202);
    const row = await waitFor('the NOTIFY result', lastLog);
    expect(row).to.include({ status: 403, reason: 'Forbidden', outcome: 'answered', transmissions: 2 });
    const device = await h.http.get(`/api/v1/devices/${MAC}`).set('Authorization', h.auth);
    expect(device.body.sync.lastNotify).to.include({ status: 403, reason: 'Forbidden' });
    expect(device.body.sync.pending).to.equal(false);
    expect(device.body.notifications[0]).to.include({ status: 403, outcome: 'answered' });
    expect(JSON.stringify(device.body)).not.to.contain('not-the-phones-password');
  });
});
