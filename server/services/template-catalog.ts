/**
 * Where a vendor's template text comes from, most specific first:
 *   database override (per model, then base) → file under templates/ (per model, then base)
 *   → shipped default (per model, then base).
 * Compiled templates are cached by source text; `generation` changes on every save so
 * cached renders know they are stale. `generation` is an in-process counter: what outlives a
 * restart (stored renders) compares `fingerprint`, a hash of the resolved text and where it came from.
 */
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import type { TemplateStore } from '../../db/stores/templates.js';
import { getVendor, vendors } from '../../vendors/registry.js';
import type { TemplateInfo } from '../../vendors/vendor.js';
import { compileTemplate, type CompiledTemplate } from './template-engine.js';

export type TemplateOrigin = 'override' | 'file' | 'default';

export interface ResolvedTemplate {
  vendor: string;
  /** The name actually used (e.g. "device.T46U" or "device"). */
  name: string;
  origin: TemplateOrigin;
  /** Override version, or 0 for files and defaults. */
  version: number;
  source: string;
  info: TemplateInfo;
  compiled: CompiledTemplate;
  /** Stable across restarts: equal only for the same vendor, name, origin and source text. */
  fingerprint: string;
}

const SAFE_NAME = /^[a-z0-9][a-z0-9-]*(\.[A-Za-z0-9_-]+)?$/;

export class TemplateCatalog {
  /** Handlebars compilations so far (each distinct template text compiles once). */
  compilations = 0;
  private gen = 1;
  private readonly compiled = new Map<string, CompiledTemplate>();
  private readonly files = new Map<string, string>();
  private readonly resolved = new Map<string, ResolvedTemplate | null>();
  private readonly listeners = new Set<() => void>();

  constructor(
    private readonly store: TemplateStore,
    fileDir: string | null,
  ) {
    if (fileDir && existsSync(fileDir)) this.loadFiles(fileDir);
  }

  get generation(): number {
    return this.gen;
  }

  /** Called after any template save or rollback. */
  invalidate(): void {
    this.gen++;
    this.resolved.clear();
    for (const l of this.listeners) l();
  }

  /** Called on every invalidate (inside the saving transaction: defer real work until after it). */
  onInvalidate(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** The base TemplateInfo a name belongs to ("device.T46U" → the vendor's "device"). */
  infoFor(vendor: string, name: string): TemplateInfo | null {
    const adapter = getVendor(vendor);
    if (!adapter || !SAFE_NAME.test(name)) return null;
    const base = name.split('.')[0];
    return adapter.templates.find((t) => t.name === base) ?? null;
  }

  resolve(vendor: string, name: string, model: string | null): ResolvedTemplate | null {
    const key = `${vendor}/${name}/${model ?? ''}`;
    if (this.resolved.has(key)) return this.resolved.get(key) ?? null;
    const result = this.lookup(vendor, name, model);
    this.resolved.set(key, result);
    return result;
  }

  /** Text of one name without fallback: override, else file, else shipped default. */
  sourceOf(vendor: string, name: string): { origin: TemplateOrigin; version: number; source: string } | null {
    const override = this.store.latest(vendor, name);
    if (override && override.body !== null) return { origin: 'override', version: override.version, source: override.body };
    const file = this.files.get(`${vendor}/${name}`);
    if (file !== undefined) return { origin: 'file', version: 0, source: file };
    const info = this.infoFor(vendor, name);
    const shipped = info && getVendor(vendor)?.templates.find((t) => t.name === name);
    if (shipped && shipped.source !== null) return { origin: 'default', version: 0, source: shipped.source };
    return null;
  }

  /** Names of the files under templates/ for one vendor (model variants included). */
  fileNames(vendor: string): string[] {
    const prefix = `${vendor}/`;
    return [...this.files.keys()].filter((k) => k.startsWith(prefix)).map((k) => k.slice(prefix.length));
  }

  /**
   * Compiles the text of every template a phone may be served: each vendor's templates and the
   * model variants under templates/. Called at start, so that the first phones after a restart do
   * not wait for it (in a boot storm on a fresh phone worker, compiling took about 5% of its CPU
   * while it answered its first configs). Returns how many texts were compiled or found compiled.
   */
  compileAll(): number {
    const texts = new Set<string>();
    for (const vendor of vendors) {
      for (const name of [...vendor.templates.map((t) => t.name), ...this.fileNames(vendor.id)]) {
        const s = this.sourceOf(vendor.id, name);
        if (s) texts.add(s.source);
      }
    }
    for (const text of texts) this.compile(text);
    return texts.size;
  }

  compile(source: string): CompiledTemplate {
    let c = this.compiled.get(source);
    if (!c) {
      this.compilations++;
      c = compileTemplate(source);
      this.compiled.set(source, c);
    }
    return c;
  }

  private lookup(vendor: string, name: string, model: string | null): ResolvedTemplate | null {
    const info = this.infoFor(vendor, name);
    if (!info) return null;
    const modelName = model ? `${name}.${model.replace(/[^A-Za-z0-9_-]/g, '')}` : null;
    const candidates = modelName ? [modelName, name] : [name];
    // Operator text (override or file) for model then base, before any shipped default.
    for (const origin of ['override', 'file', 'default'] as const) {
      for (const n of candidates) {
        const s = this.sourceOf(vendor, n);
        if (s && s.origin === origin) {
          const fingerprint = createHash('sha1').update(`${vendor}\0${n}\0${origin}\0`).update(s.source).digest('base64url').slice(0, 16);
          return { vendor, name: n, origin, version: s.version, source: s.source, info, compiled: this.compile(s.source), fingerprint };
        }
      }
    }
    return null;
  }

  private loadFiles(dir: string): void {
    for (const vendor of readdirSync(dir, { withFileTypes: true })) {
      if (!vendor.isDirectory() || !getVendor(vendor.name)) continue;
      for (const f of readdirSync(join(dir, vendor.name))) {
        const m = /^(.+)\.hbs$/.exec(f);
        if (!m || !this.infoFor(vendor.name, m[1]!)) continue;
        this.files.set(`${vendor.name}/${m[1]}`, readFileSync(join(dir, vendor.name, f), 'utf8'));
      }
    }
  }
}
