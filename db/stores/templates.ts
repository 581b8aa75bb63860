import type { Db } from '../index.js';

export interface TemplateVersion {
  vendor: string;
  name: string;
  version: number;
  /** null: this version restores the shipped default. */
  body: string | null;
  author: string | null;
  comment: string | null;
  createdAt: number;
}

interface Row {
  vendor: string;
  name: string;
  version: number;
  body: string | null;
  author: string | null;
  comment: string | null;
  created_at: number;
}

const toVersion = (r: Row): TemplateVersion => ({
  vendor: r.vendor,
  name: r.name,
  version: r.version,
  body: r.body,
  author: r.author,
  comment: r.comment,
  createdAt: r.created_at,
});

export class TemplateStore {
  private readonly latest_;
  private readonly allLatest_;
  private readonly history_;
  private readonly one_;
  private readonly ins_;

  constructor(db: Db) {
    this.latest_ = db.prepare<[string, string], Row>(
      'SELECT * FROM templates WHERE vendor = ? AND name = ? ORDER BY version DESC LIMIT 1',
    );
    this.allLatest_ = db.prepare<[], Row>(`SELECT t.* FROM templates t
      JOIN (SELECT vendor, name, max(version) AS v FROM templates GROUP BY vendor, name) m
        ON m.vendor = t.vendor AND m.name = t.name AND m.v = t.version`);
    this.history_ = db.prepare<[string, string], Row>('SELECT * FROM templates WHERE vendor = ? AND name = ? ORDER BY version DESC');
    this.one_ = db.prepare<[string, string, number], Row>('SELECT * FROM templates WHERE vendor = ? AND name = ? AND version = ?');
    this.ins_ = db.prepare(`INSERT INTO templates (vendor, name, version, body, author, comment, created_at)
      VALUES (@vendor, @name, (SELECT coalesce(max(version), 0) + 1 FROM templates WHERE vendor = @vendor AND name = @name),
        @body, @author, @comment, @createdAt) RETURNING version`);
  }

  latest(vendor: string, name: string): TemplateVersion | null {
    const r = this.latest_.get(vendor, name);
    return r ? toVersion(r) : null;
  }

  allLatest(): TemplateVersion[] {
    return this.allLatest_.all().map(toVersion);
  }

  history(vendor: string, name: string): TemplateVersion[] {
    return this.history_.all(vendor, name).map(toVersion);
  }

  get(vendor: string, name: string, version: number): TemplateVersion | null {
    const r = this.one_.get(vendor, name, version);
    return r ? toVersion(r) : null;
  }

  insert(v: Omit<TemplateVersion, 'version'>): number {
    return (this.ins_.get(v) as { version: number }).version;
  }
}
