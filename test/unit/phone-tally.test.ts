/**
 * Phone requests counted in plain numbers (server/phone-tally.ts) and what /metrics makes of them:
 * the same exposition prom-client gives for the same observations, whether a request was answered
 * in the primary or its tally came from a phone worker. Render durations likewise, by vendor.
 */
import { expect } from 'chai';
import { Histogram, Registry } from 'prom-client';
import { isFromWorker } from '../../server/cluster/protocol.js';
import { createMetrics, RENDER_DURATION_BUCKETS, type RenderTallies } from '../../server/metrics.js';
import { isTallyData, PHONE_DURATION_BUCKETS, PhoneTally, requestsIn } from '../../server/phone-tally.js';

const sources = {
  outboxDepth: () => 0,
  activeSessions: () => 0,
  blockedIps: () => 0,
  renderCache: () => ({ hits: 0, misses: 0, entries: 0, bytes: 0 }),
};

/** The lines of one metric family in an exposition, without its HELP and TYPE lines. */
const family = (text: string, name: string) => text.split('\n').filter((l) => l.startsWith(name) && !l.startsWith('#'));

// On a bound, between bounds, past the last bound, and zero.
const DURATIONS = [0.0005, 0.0007, 0.003, 0.003, 0.25, 0.3, 2, 0];

describe('phone tally', () => {
  it('/metrics shows the duration histogram prom-client shows for the same observations', async () => {
    const metrics = createMetrics(sources);
    for (const s of DURATIONS) metrics.observePhone('yealink', 'device', 200, s);

    const registry = new Registry();
    const reference = new Histogram({ name: 'deskprov_phone_request_duration_seconds', help: 'x', buckets: [...PHONE_DURATION_BUCKETS], registers: [registry] });
    for (const s of DURATIONS) reference.observe(s);

    const ours = family((await metrics.scrape()).body, 'deskprov_phone_request_duration_seconds');
    expect(ours).to.have.length(PHONE_DURATION_BUCKETS.length + 3); // buckets, +Inf, sum, count
    expect(ours).to.deep.equal(family(await registry.metrics(), 'deskprov_phone_request_duration_seconds'));
    // Scraping again shows the same (the copy into prom-client does not add up).
    expect(family((await metrics.scrape()).body, 'deskprov_phone_request_duration_seconds')).to.deep.equal(ours);
  });

  it('/metrics shows the render-duration histogram, by vendor, prom-client shows for the same observations', async () => {
    const metrics = createMetrics(sources);
    const registry = new Registry();
    const reference = new Histogram({ name: 'deskprov_render_duration_seconds', help: 'x', labelNames: ['vendor'], buckets: [...RENDER_DURATION_BUCKETS], registers: [registry] });
    const seen: Array<[string, number]> = [['polycom', 0.0001], ['yealink', 0.00012], ['yealink', 0.003], ['polycom', 0.2], ['yealink', 0]];
    for (const [vendor, s] of seen) {
      metrics.observeRender(vendor, s);
      reference.observe({ vendor }, s);
    }
    const ours = family((await metrics.scrape()).body, 'deskprov_render_duration_seconds');
    expect(ours).to.have.length(2 * (RENDER_DURATION_BUCKETS.length + 3));
    expect(ours).to.deep.equal(family(await registry.metrics(), 'deskprov_render_duration_seconds'));
    expect(family((await metrics.scrape()).body, 'deskprov_render_duration_seconds')).to.deep.equal(ours);
  });

  it('a worker\'s render durations add to the primary\'s histogram as if the primary had rendered them, taken only once', async () => {
    const worker = createMetrics(sources);
    const primary = createMetrics(sources);
    const registry = new Registry();
    const reference = new Histogram({ name: 'deskprov_render_duration_seconds', help: 'x', labelNames: ['vendor'], buckets: [...RENDER_DURATION_BUCKETS], registers: [registry] });
    const seen: Array<[typeof worker, string, number]> = [[worker, 'yealink', 0.0002], [worker, 'yealink', 0.004], [worker, 'polycom', 0.02], [primary, 'yealink', 0.0003], [primary, 'sangoma-s', 0.1]];
    for (const [m, vendor, s] of seen) {
      m.observeRender(vendor, s);
      reference.observe({ vendor }, s);
    }
    const sent = JSON.parse(JSON.stringify({ type: 'rendered', renders: worker.takeRenders() })) as unknown;
    expect(isFromWorker(sent)).to.equal(true);
    expect(worker.takeRenders(), 'nothing rendered since').to.equal(null);
    primary.addRenders((sent as { renders: RenderTallies }).renders);
    const ours = family((await primary.scrape()).body, 'deskprov_render_duration_seconds');
    expect(ours).to.have.length(3 * (RENDER_DURATION_BUCKETS.length + 3));
    // The same lines; the vendors in another order (the primary saw the worker's polycom last).
    expect(ours).to.have.members(family(await registry.metrics(), 'deskprov_render_duration_seconds'));
    // Not a tally of these buckets: not taken for a message.
    const good = { yealink: { buckets: RENDER_DURATION_BUCKETS.map(() => 0).concat(1), sum: 1, count: 1 } };
    expect(isFromWorker({ type: 'rendered', renders: good })).to.equal(true);
    for (const bad of [null, [], { yealink: { ...good.yealink, buckets: [1] } }, { yealink: { ...good.yealink, count: 0.5 } }, { yealink: { ...good.yealink, sum: 'x' } }, { yealink: null }]) {
      expect(isFromWorker({ type: 'rendered', renders: bad }), JSON.stringify(bad)).to.equal(false);
    }
  });

  it('a worker\'s tally adds to the primary\'s counts and durations, and is taken only once', async () => {
    const worker = new PhoneTally();
    worker.observe('polycom', 'device', 200, 0.002);
    worker.observe('polycom', 'device', 200, 0.004);
    worker.observe(null, null, 404, 0.0001);
    const tally = worker.take()!;
    expect(requestsIn(tally)).to.equal(3);
    expect(worker.take(), 'nothing counted since').to.equal(null);
    // It travels as JSON.
    const sent = JSON.parse(JSON.stringify(tally)) as unknown;
    expect(isTallyData(sent)).to.equal(true);

    const metrics = createMetrics(sources);
    metrics.observePhone('polycom', 'device', 200, 0.003);
    metrics.addPhones(sent as typeof tally);
    const text = (await metrics.scrape()).body;
    expect(family(text, 'deskprov_phone_requests_total')).to.have.members([
      'deskprov_phone_requests_total{vendor="polycom",kind="device",status="200"} 3',
      'deskprov_phone_requests_total{vendor="none",kind="none",status="404"} 1',
    ]);
    expect(family(text, 'deskprov_phone_request_duration_seconds_count')).to.deep.equal(['deskprov_phone_request_duration_seconds_count 4']);
    expect(family(text, 'deskprov_phone_request_duration_seconds_bucket{le="0.0025"}')).to.deep.equal(['deskprov_phone_request_duration_seconds_bucket{le="0.0025"} 2']);
    expect(family(text, 'deskprov_phone_request_duration_seconds_bucket{le="0.005"}')).to.deep.equal(['deskprov_phone_request_duration_seconds_bucket{le="0.005"} 4']);
    const sum = Number(family(text, 'deskprov_phone_request_duration_seconds_sum')[0]!.split(' ')[1]);
    expect(sum).to.be.closeTo(0.0091, 1e-9);
  });

  it('a message that is not a tally is not taken for one', () => {
    const good = { counts: [['yealink', 'device', 200, 2]], buckets: PHONE_DURATION_BUCKETS.map(() => 0).concat(2), sum: 3 };
    expect(isTallyData(good)).to.equal(true);
    for (const bad of [
      null,
      'tally',
      { ...good, buckets: good.buckets.slice(1) },
      { ...good, buckets: good.buckets.map(() => -1) },
      { ...good, buckets: good.buckets.map(() => 0.5) },
      { ...good, sum: -1 },
      { ...good, sum: Number.NaN },
      { ...good, counts: [['yealink', 'device', 200]] },
      { ...good, counts: [['yealink', 7, 200, 1]] },
      { ...good, counts: [['yealink', 'device', '200', 1]] },
      { ...good, counts: {} },
    ]) expect(isTallyData(bad), JSON.stringify(bad)).to.equal(false);
  });
});
