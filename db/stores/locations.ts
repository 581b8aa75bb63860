import type { Db } from '../index.js';

export interface Location {
  id: number;
  name: string;
  address: string | null;
  emergencyNumbers: string[];
  callbackNumber: string | null;
  createdAt: number;
  updatedAt: number;
}

interface Row {
  id: number;
  name: string;
  address: string | null;
  emergency_numbers: string;
  callback_number: string | null;
  created_at: number;
  updated_at: number;
}

export function parseNumbers(json: string): string[] {
  const v: unknown = JSON.parse(json);
  return Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : [];
}

const toLocation = (r: Row): Location => ({
  id: r.id,
  name: r.name,
  address: r.address,
  emergencyNumbers: parseNumbers(r.emergency_numbers),
  callbackNumber: r.callback_number,
  createdAt: r.created_at,
  updatedAt: r.updated_at,
});

export type LocationWrite = Pick<Location, 'name' | 'address' | 'emergencyNumbers' | 'callbackNumber'>;

export class LocationStore {
  private readonly byId;
  private readonly byName;
  private readonly all;
  private readonly ins;
  private readonly upd;
  private readonly del;

  constructor(db: Db) {
    this.byId = db.prepare<[number], Row>('SELECT * FROM locations WHERE id = ?');
    this.byName = db.prepare<[string], Row>('SELECT * FROM locations WHERE name = ?');
    this.all = db.prepare<[], Row>('SELECT * FROM locations ORDER BY name');
    this.ins = db.prepare(`INSERT INTO locations (name, address, emergency_numbers, callback_number, created_at, updated_at)
      VALUES (@name, @address, @emergencyNumbers, @callbackNumber, @now, @now)`);
    this.upd = db.prepare(`UPDATE locations SET name = @name, address = @address, emergency_numbers = @emergencyNumbers,
      callback_number = @callbackNumber, updated_at = @now WHERE id = @id`);
    this.del = db.prepare('DELETE FROM locations WHERE id = ?');
  }

  get(id: number): Location | null {
    const r = this.byId.get(id);
    return r ? toLocation(r) : null;
  }

  getByName(name: string): Location | null {
    const r = this.byName.get(name);
    return r ? toLocation(r) : null;
  }

  list(): Location[] {
    return this.all.all().map(toLocation);
  }

  insert(l: LocationWrite, now: number): number {
    const info = this.ins.run({ ...l, emergencyNumbers: JSON.stringify(l.emergencyNumbers), now });
    return Number(info.lastInsertRowid);
  }

  update(id: number, l: LocationWrite, now: number): void {
    this.upd.run({ ...l, id, emergencyNumbers: JSON.stringify(l.emergencyNumbers), now });
  }

  delete(id: number): void {
    this.del.run(id);
  }
}
