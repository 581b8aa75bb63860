/**
 * Escapers shared by the vendor adapters. Adapters escape every string of a view once, in
 * buildView, for their file format; templates are compiled with escaping off and never
 * escape again. A value that cannot be written safely is refused, never passed through.
 */
import { AppError } from '../server/errors.js';

/** A value that would change the structure of a config file (e.g. add a key=value line). */
export class UnsafeValueError extends AppError {
  constructor(reason: string) {
    // The message names the problem, never the value: it may be a password.
    super(500, 'unsafe_config_value', `a value cannot be written to the config file: ${reason}`);
    this.name = 'UnsafeValueError';
  }
}

/**
 * Everything outside the XML 1.0 `Char` production: C0 controls other than TAB/LF/CR,
 * lone surrogates, U+FFFE and U+FFFF. With the `u` flag a valid surrogate pair is one code point.
 */
const XML_ILLEGAL = /[^\t\n\r\u0020-\uD7FF\uE000-\uFFFD\u{10000}-\u{10FFFF}]/gu;

const XML_ENTITY: Readonly<Record<string, string>> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
  "'": '&apos;',
  // Written as references so attribute-value normalisation cannot turn them into spaces.
  '\t': '&#9;',
  '\n': '&#10;',
  '\r': '&#13;',
};

/** Drops characters XML 1.0 cannot carry at all (not even as references). */
export function sanitizeXmlText(value: string): string {
  return value.replace(XML_ILLEGAL, '');
}

/**
 * Escapes for XML text and attribute values (either quote style). Characters XML cannot carry
 * are removed, so the result parses back to `sanitizeXmlText(value)`.
 */
export function xmlEscape(value: string): string {
  // Most values (hosts, extensions, URLs) need nothing: one scan, no copy.
  if (!XML_NEEDS_WORK.test(value)) return value;
  return sanitizeXmlText(value).replace(/[&<>"'\t\n\r]/g, (c) => XML_ENTITY[c] ?? '');
}

/** Anything xmlEscape would change: an entity character or a character outside XML's `Char`. */
const XML_NEEDS_WORK = /[&<>"'\t\n\r]|[^\t\n\r\u0020-\uD7FF\uE000-\uFFFD\u{10000}-\u{10FFFF}]/u;

/** CR, LF and NUL end a line (or a C string) in a key=value file: refused. */
const LINE_BREAKING = /[\r\n\0]/;
/**
 * Other controls and Unicode line separators: no phone needs them in a value and some
 * parsers treat them as line ends, so they are dropped. TAB is kept.
 */
const KV_STRIPPED = /[\u0001-\u0008\u000B\u000C\u000E-\u001F\u007F-\u009F\u2028\u2029]/g;

/**
 * A value for a `key = value` line (Yealink). Values holding CR/LF/NUL are refused when they
 * are stored; meeting one here is a bug, so it throws rather than writes a second line.
 */
export function keyValueValue(value: string): string {
  if (LINE_BREAKING.test(value)) throw new UnsafeValueError('it contains CR, LF or NUL');
  return KV_STRIPPED_ANY.test(value) ? value.replace(KV_STRIPPED, '') : value;
}
const KV_STRIPPED_ANY = new RegExp(KV_STRIPPED.source);

/**
 * Deep-maps every string in a view (objects, arrays) through `escape`; numbers, booleans
 * and null pass through. Keys are copied as own data properties, so a key named
 * `__proto__` cannot reach a prototype.
 */
export function escapeView<T>(value: T, escape: (s: string) => string): T {
  return mapStrings(value, escape) as T;
}

function mapStrings(value: unknown, escape: (s: string) => string): unknown {
  if (typeof value === 'string') return escape(value);
  if (value === null || typeof value !== 'object') return value;
  if (Array.isArray(value)) {
    const out = new Array<unknown>(value.length);
    for (let i = 0; i < value.length; i++) out[i] = mapStrings(value[i], escape);
    return out;
  }
  const src = value as Record<string, unknown>;
  const out: Record<string, unknown> = {};
  for (const key of Object.keys(src)) {
    const mapped = mapStrings(src[key], escape);
    // Plain assignment is an own data property for every key but `__proto__`, whose setter
    // would replace the prototype: that one key is defined explicitly.
    if (key === '__proto__') Object.defineProperty(out, key, { value: mapped, enumerable: true, writable: true, configurable: true });
    else out[key] = mapped;
  }
  return out;
}
