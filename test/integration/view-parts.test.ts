/**
 * A render reads a device's session, guest, owner and location in one joined statement
 * (db/stores/view-parts.ts). Whatever the mix of those, the config shows what the stores say
 * one by one: the guest's line while a session is active and its user exists, else the owner's,
 * else none; the device's location; the row as it is now.
 */
import { expect } from 'chai';
import fc from 'fast-check';
import type { Mac } from '../../server/domain/mac.js';
import { createHarness, type Harness } from '../helpers/harness.js';

const MAC = '001565000001' as Mac;
const EXTENSIONS = ['1001', '1002', '1003'];

interface Case {
  users: boolean[];
  owner: string | null;
  guest: string | null;
  /** The guest's user is deleted after the session started (its row stays, its user does not). */
  guestGone: boolean;
  location: 'none' | 'a' | 'b';
  endedSession: boolean;
}

const cases = fc.record<Case>({
  users: fc.array(fc.boolean(), { minLength: 3, maxLength: 3 }),
  owner: fc.option(fc.constantFrom(...EXTENSIONS)),
  guest: fc.option(fc.constantFrom(...EXTENSIONS)),
  guestGone: fc.boolean(),
  location: fc.constantFrom('none', 'a', 'b'),
  endedSession: fc.boolean(),
});

describe('the render read (device, session, guest, owner, location in one statement)', () => {
  let h: Harness;
  afterEach(() => h?.destroy());

  it('gives the view the stores give one by one, for any mix of owner, session, users and location', () => {
    fc.assert(
      fc.property(cases, (c) => {
        h?.destroy();
        h = createHarness({ config: { provisioning: { prerender: false } } });
        const { users, locations, devices, sessions, tx } = h.ctx.stores;
        const now = h.clock.now();
        EXTENSIONS.forEach((ext, i) => {
          if (c.users[i] || ext === c.guest) {
            users.insert({ extension: ext, displayName: `User ${ext}`, sipUsername: `u${ext}`, sipPassword: `pw-${ext}&<x>`, pinHash: null, hotdeskAllowed: true, email: null }, now);
          }
        });
        const a = locations.insert({ name: 'HQ', address: '1 Main St', emergencyNumbers: ['911', '933'], callbackNumber: '+15551230000' }, now);
        const b = locations.insert({ name: 'Annex', address: null, emergencyNumbers: [], callbackNumber: null }, now);
        const locationId = c.location === 'a' ? a : c.location === 'b' ? b : null;
        const owner = c.owner !== null && c.users[EXTENSIONS.indexOf(c.owner)] ? c.owner : null;
        tx(() => devices.insert({ mac: MAC, vendor: 'yealink', model: 'T46U', label: 'desk', ownerExtension: owner, hotdeskEnabled: true, locationId, sipContact: null, sessionTimeout: null }, now));
        if (c.endedSession) sessions.finish(sessions.start(MAC, EXTENSIONS[0]!, now - 5000, null), now - 1000, 'logout');
        if (c.guest !== null) {
          sessions.start(MAC, c.guest, now, now + 3_600_000);
          // A user row removed under a live session (the service ends sessions first; the read must not trust it).
          if (c.guestGone && c.guest !== owner) users.delete(c.guest);
        }

        const device = devices.get(MAC)!;
        const joined = h.ctx.renderer.source(MAC)!;
        const view = h.ctx.views.build(joined.device, joined.parts);

        // One by one, through the stores.
        const session = sessions.activeOn(MAC);
        const guest = session ? users.get(session.extension) : null;
        const ownerUser = device.ownerExtension ? users.get(device.ownerExtension) : null;
        const line = guest ?? ownerUser;
        expect(view.state).to.equal(guest ? 'guest' : ownerUser ? 'owner' : 'unassigned');
        expect(view.line).to.deep.equal(
          line ? { extension: line.extension, displayName: line.displayName, authUser: line.sipUsername, password: line.sipPassword, label: line.displayName } : null,
        );
        const location = device.locationId === null ? null : locations.get(device.locationId);
        expect(view.location).to.deep.equal(
          location ? { name: location.name, emergencyNumbers: location.emergencyNumbers, callbackNumber: location.callbackNumber, address: location.address } : null,
        );
        expect(view.hotdesk.sessionEndsAt).to.equal(guest && session?.endsAt ? new Date(session.endsAt).toISOString() : null);
        expect(view.hotdesk.logoutUrl.includes('?k=')).to.equal(guest !== null);
        // The row read with the parts is the device's row.
        const { lastFetch: _lastFetch, ...row } = device;
        expect(joined.device).to.deep.equal(row);
        // And the same view as from the row alone (the parts read on their own).
        expect(h.ctx.views.build(device)).to.deep.equal(view);
      }),
      { numRuns: 40 },
    );
  });

  it('reads nothing for a MAC with no device', () => {
    h = createHarness();
    expect(h.ctx.renderer.source('001565ffffff')).to.equal(null);
  });
});
