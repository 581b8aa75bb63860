/**
 * The in-memory render cache is bounded by `provisioning.renderCacheMb`. When it is full, what
 * goes is what phones stopped asking for: a file that is still being fetched stays.
 */
import { expect } from 'chai';
import type { Mac } from '../../server/domain/mac.js';
import { createHarness, type Harness } from '../helpers/harness.js';

describe('render cache bound', () => {
  let h: Harness;
  const macOf = (i: number) => `001565${i.toString(16).padStart(6, '0')}` as Mac;
  const fetchFile = (i: number) => {
    const head = h.ctx.stores.devices.head(macOf(i))!;
    return h.ctx.renderer.deviceFile(head, 'device', () => h.ctx.renderer.source(head.mac));
  };
  const isHit = (i: number) => {
    const before = h.ctx.renderer.cacheStats().hits;
    expect(fetchFile(i)).to.not.equal(null);
    return h.ctx.renderer.cacheStats().hits === before + 1;
  };

  beforeEach(() => {
    h = createHarness({ config: { provisioning: { renderCacheMb: 1, prerender: false } } });
    for (let i = 0; i < 2000; i++) {
      h.ctx.stores.devices.insert(
        { mac: macOf(i), vendor: 'yealink', model: 'T46U', label: `desk ${i}`, ownerExtension: null, hotdeskEnabled: true, locationId: null, sipContact: null, sessionTimeout: null },
        h.clock.now(),
      );
    }
  });
  afterEach(() => h.destroy());

  it('stays within its bytes, keeps a file that is fetched again and lets an unasked one go', () => {
    // Fill it until the first eviction: device 0 (the oldest) is gone and 1 is the oldest left.
    let n = 0;
    const entries = () => h.ctx.renderer.cacheStats().entries;
    for (let before = -1; n < 2000 && entries() > before; ) {
      before = entries();
      fetchFile(n++);
    }
    expect(n, 'the cache never filled').to.be.below(2000);
    expect(h.ctx.renderer.cacheStats().bytes).to.be.at.most(1024 * 1024);
    expect(entries()).to.be.above(100);

    expect(isHit(1), 'device 1 is cached before the next eviction').to.equal(true);
    fetchFile(n++); // one more file: something must go
    expect(isHit(1), 'device 1 was fetched again: it stays').to.equal(true);
    expect(isHit(2), 'device 2 was not: it went first').to.equal(false);
    expect(h.ctx.renderer.cacheStats().bytes).to.be.at.most(1024 * 1024);
  });
});
