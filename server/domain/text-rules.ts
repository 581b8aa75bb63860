/**
 * What text the admin may store, so that every vendor's output escaping (vendors/escape.ts)
 * writes it unchanged: a value escaping would strip or alter is refused when it is stored,
 * never silently changed on its way to a phone.
 *
 * What escaping does to a value:
 * - key=value files (Yealink): CR, LF, NUL refused; other C0 controls except TAB, DEL, C1
 *   (U+0080–U+009F, e.g. U+0085 NEL), U+2028 and U+2029 dropped; and the phone trims the
 *   whitespace around a value.
 * - XML files (Polycom, Sangoma P and S): C0 controls other than TAB/LF/CR, unpaired
 *   surrogates, U+FFFE and U+FFFF dropped.
 * The rules below refuse all of those. Secrets (SIP passwords) are held to more: no control
 * character at all (TAB included), no invisible format character (Unicode category Cf, such as
 * U+200B zero-width space or U+FEFF), and no whitespace at either end — a password nobody can
 * see or type on a phone's keypad is one nobody can check.
 *
 * Messages name the problem, never the value: it may be a password.
 */

/** C0 controls (TAB included), DEL and C1 controls. */
const CONTROL = /[\u0000-\u001f\u007f-\u009f]/;
const LINE_SEPARATORS = /[\u2028\u2029]/;
/** Unpaired surrogates (a JSON string can hold one) and the two noncharacters XML cannot carry. */
const NOT_XML = /\p{Cs}|[\uFFFE\uFFFF]/u;
const FORMAT = /\p{Cf}/u;
const EDGE_SPACE = /^\s|\s$/;

/** Why a display text (names, labels, addresses) would not reach every phone unchanged, or null. */
export function displayTextProblem(value: string): string | null {
  if (CONTROL.test(value)) return 'must not contain control characters (CR, LF, NUL, tab, U+0080–U+009F …)';
  if (LINE_SEPARATORS.test(value)) return 'must not contain the line or paragraph separator U+2028/U+2029';
  if (NOT_XML.test(value)) return 'must not contain unpaired surrogates or U+FFFE/U+FFFF';
  return null;
}

/** Why a secret (a SIP password) would not reach every phone exactly as typed, or null. */
export function secretTextProblem(value: string): string | null {
  const display = displayTextProblem(value);
  if (display) return display;
  if (FORMAT.test(value)) return 'must not contain invisible format characters (zero-width space, zero-width joiner, BOM, direction marks …)';
  if (EDGE_SPACE.test(value)) return 'must not start or end with whitespace';
  return null;
}
