/**
 * What keeps a phone worker's caches true to a database another process writes.
 *
 * The worker calls `check()` before answering: once per event-loop turn for what the phone lane
 * read in it (PhoneLaneOptions.beforeAnswers), and before each request node:http answers. It
 * costs one `PRAGMA data_version`, which changes with every commit by another connection and
 * reads no table. When it moved:
 * - templates: saves only add rows to the templates table, so a new largest rowid drops the
 *   resolved templates, and with them every cached render (the catalog's generation);
 * - device and download-auth rows: their stores note every change (migration 007). A note drops
 *   that device's cached rows and renders; a fetched note (migration 009: only the phone's
 *   fetched_version moved) drops just its head, whose fetched_version download auth reads. A note
 *   for all devices, a gap in the notes (trimmed before this worker read them) or a long run of
 *   them drops every cached row.
 */
import type { Db } from '../../db/index.js';
import { ALL_DEVICES, type DeviceChangeStore } from '../../db/stores/device-changes.js';
import type { DeviceStore } from '../../db/stores/devices.js';
import type { TemplateCatalog } from '../services/template-catalog.js';

/** Change notes read at once; more than that pending drops every cached row instead. */
const NOTES_AT_ONCE = 5000;

export class ReplicaCache {
  private readonly dataVersion;
  private readonly templatesMark;
  private seenData: number;
  private seenTemplates: number;
  private seenNote: number;

  constructor(
    db: Db,
    private readonly notes: DeviceChangeStore,
    private readonly devices: DeviceStore,
    private readonly catalog: TemplateCatalog,
  ) {
    this.dataVersion = db.prepare<[], number>('PRAGMA data_version').pluck();
    this.templatesMark = db.prepare<[], number | null>('SELECT max(rowid) FROM templates').pluck();
    this.seenData = this.dataVersion.get()!;
    this.seenTemplates = this.templatesMark.get() ?? 0;
    this.seenNote = notes.latest();
  }

  /** Drops whatever another connection's commits made stale. Call before answering a request. */
  check(): void {
    const data = this.dataVersion.get()!;
    if (data === this.seenData) return;
    this.seenData = data;
    const mark = this.templatesMark.get() ?? 0;
    if (mark !== this.seenTemplates) {
      this.seenTemplates = mark;
      this.catalog.invalidate();
    }
    const changed = this.notes.since(this.seenNote, NOTES_AT_ONCE);
    if (changed.length === 0) return;
    if (changed[0]!.seq !== this.seenNote + 1 || changed.length === NOTES_AT_ONCE || changed.some((c) => c.mac === ALL_DEVICES)) {
      this.devices.forget(null);
      this.seenNote = this.notes.latest();
      return;
    }
    for (const c of changed) {
      if (c.fetched) this.devices.forgetHead(c.mac);
      else this.devices.forget(c.mac); // and its download-auth row and renders
    }
    this.seenNote = changed[changed.length - 1]!.seq;
  }
}
