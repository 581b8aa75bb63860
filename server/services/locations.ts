/** Admin use cases for locations (E911): a change re-provisions every device at the location. */
import type { Stores } from '../../db/stores/index.js';
import type { Location, LocationWrite } from '../../db/stores/locations.js';
import { conflict, notFound } from '../errors.js';
import type { Actor, AuditSink } from './audit.js';
import type { ChangeTracker } from './change-tracker.js';
import type { Clock } from './clock.js';

export function publicLocation(l: Location) {
  return {
    id: l.id,
    name: l.name,
    address: l.address,
    emergencyNumbers: l.emergencyNumbers,
    callbackNumber: l.callbackNumber,
    createdAt: new Date(l.createdAt).toISOString(),
    updatedAt: new Date(l.updatedAt).toISOString(),
  };
}

export class LocationService {
  constructor(
    private readonly s: Stores,
    private readonly changes: ChangeTracker,
    private readonly clock: Clock,
    private readonly audit: AuditSink,
  ) {}

  get(id: number): Location {
    const l = this.s.locations.get(id);
    if (!l) throw notFound(`location ${id}`);
    return l;
  }

  create(input: LocationWrite, actor: Actor): Location {
    return this.s.tx(() => {
      if (this.s.locations.getByName(input.name)) throw conflict(`a location named "${input.name}" already exists`);
      const id = this.s.locations.insert(input, this.clock.now());
      const created = this.get(id);
      this.audit.record({ actor, action: 'location.create', target: `location:${id}`, after: publicLocation(created) });
      return created;
    });
  }

  update(id: number, patch: { [K in keyof LocationWrite]?: LocationWrite[K] | undefined }, actor: Actor): Location {
    return this.s.tx(() => {
      const before = this.get(id);
      const next: LocationWrite = {
        name: patch.name ?? before.name,
        address: patch.address === undefined ? before.address : patch.address,
        emergencyNumbers: patch.emergencyNumbers ?? before.emergencyNumbers,
        callbackNumber: patch.callbackNumber === undefined ? before.callbackNumber : patch.callbackNumber,
      };
      const clash = this.s.locations.getByName(next.name);
      if (clash && clash.id !== id) throw conflict(`a location named "${next.name}" already exists`);
      const same = next.name === before.name && next.address === before.address && next.callbackNumber === before.callbackNumber &&
        next.emergencyNumbers.length === before.emergencyNumbers.length && next.emergencyNumbers.every((n, i) => n === before.emergencyNumbers[i]);
      if (same) return before; // nothing to write, nothing to resync
      // Resync only the phones whose files the edit changes: the address, say, is in no shipped template.
      this.changes.changedIfFilesMove(this.s.devices.macsAtLocation(id), `location ${id} edited`, () => this.s.locations.update(id, next, this.clock.now()));
      const after = this.get(id);
      this.audit.record({ actor, action: 'location.update', target: `location:${id}`, before: publicLocation(before), after: publicLocation(after) });
      return after;
    });
  }

  delete(id: number, actor: Actor): void {
    this.s.tx(() => {
      const before = this.get(id);
      const macs = this.s.devices.macsAtLocation(id);
      if (macs.length > 0) throw conflict(`location ${id} still has ${macs.length} device(s); move them first`, { devices: macs.slice(0, 50) });
      this.s.locations.delete(id);
      this.audit.record({ actor, action: 'location.delete', target: `location:${id}`, before: publicLocation(before) });
    });
  }
}
