/** Named admin API tokens; only their SHA-256 hashes are stored. */
import type { Db } from '../index.js';
import type { Role } from '../../server/services/audit.js';

export interface ApiToken {
  name: string;
  role: Role;
  tokenHash: string;
  createdAt: number;
  rotatedAt: number | null;
  lastUsedAt: number | null;
}

interface Row {
  name: string;
  role: Role;
  token_hash: string;
  created_at: number;
  rotated_at: number | null;
  last_used_at: number | null;
}

const toToken = (r: Row): ApiToken => ({
  name: r.name,
  role: r.role,
  tokenHash: r.token_hash,
  createdAt: r.created_at,
  rotatedAt: r.rotated_at,
  lastUsedAt: r.last_used_at,
});

export class ApiTokenStore {
  private readonly byName;
  private readonly byHash;
  private readonly all;
  private readonly ins;
  private readonly rehash;
  private readonly del;
  private readonly used;

  constructor(db: Db) {
    this.byName = db.prepare<[string], Row>('SELECT * FROM api_tokens WHERE name = ?');
    this.byHash = db.prepare<[string], Row>('SELECT * FROM api_tokens WHERE token_hash = ?');
    this.all = db.prepare<[], Row>('SELECT * FROM api_tokens ORDER BY name');
    this.ins = db.prepare('INSERT INTO api_tokens (name, role, token_hash, created_at) VALUES (?, ?, ?, ?)');
    this.rehash = db.prepare('UPDATE api_tokens SET token_hash = ?, rotated_at = ? WHERE name = ?');
    this.del = db.prepare('DELETE FROM api_tokens WHERE name = ?');
    this.used = db.prepare('UPDATE api_tokens SET last_used_at = ? WHERE name = ?');
  }

  get(name: string): ApiToken | null {
    const r = this.byName.get(name);
    return r ? toToken(r) : null;
  }

  findByHash(hash: string): ApiToken | null {
    const r = this.byHash.get(hash);
    return r ? toToken(r) : null;
  }

  list(): ApiToken[] {
    return this.all.all().map(toToken);
  }

  insert(name: string, role: Role, tokenHash: string, now: number): void {
    this.ins.run(name, role, tokenHash, now);
  }

  rotate(name: string, tokenHash: string, now: number): void {
    this.rehash.run(tokenHash, now, name);
  }

  delete(name: string): void {
    this.del.run(name);
  }

  touch(name: string, now: number): void {
    this.used.run(now, name);
  }
}
