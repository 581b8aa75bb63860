/**
 * A small, strict, linear-time XML well-formedness check for rendered phone configs.
 * Stricter than sax/xml2js on purpose: one root element, no text outside it, no duplicate
 * attributes, no raw `<` in attribute values, only predefined entities, no DOCTYPE, no
 * control characters. Reports the first problem with its 1-based line.
 */
import type { LintProblem, TemplateInfo } from './vendor.js';

class XmlSyntaxError extends Error {
  constructor(
    readonly pos: number,
    readonly reason: string,
  ) {
    super(reason);
  }
}

const ILLEGAL_CHAR = /[^\t\n\r\u0020-\uD7FF\uE000-\uFFFD\u{10000}-\u{10FFFF}]/u;
const PREDEFINED = new Set(['amp', 'lt', 'gt', 'quot', 'apos']);

function isNameStart(c: number): boolean {
  return (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || c === 95 || c === 58 || c >= 0x80;
}
function isNameChar(c: number): boolean {
  return isNameStart(c) || (c >= 48 && c <= 57) || c === 45 || c === 46;
}
function isSpace(c: number): boolean {
  return c === 32 || c === 9 || c === 10 || c === 13;
}
function isXmlChar(cp: number): boolean {
  return cp === 9 || cp === 10 || cp === 13 || (cp >= 0x20 && cp <= 0xd7ff) || (cp >= 0xe000 && cp <= 0xfffd) || (cp >= 0x10000 && cp <= 0x10ffff);
}

class Scanner {
  pos = 0;
  root: string | null = null;
  constructor(readonly s: string) {}

  fail(reason: string, at = this.pos): never {
    throw new XmlSyntaxError(at, reason);
  }
  at(str: string): boolean {
    return this.s.startsWith(str, this.pos);
  }
  code(): number {
    return this.s.charCodeAt(this.pos);
  }
  skipSpace(): boolean {
    const start = this.pos;
    while (this.pos < this.s.length && isSpace(this.code())) this.pos++;
    return this.pos > start;
  }
  name(what: string): string {
    const start = this.pos;
    if (this.pos >= this.s.length || !isNameStart(this.code())) this.fail(`expected ${what} name`);
    while (this.pos < this.s.length && isNameChar(this.code())) this.pos++;
    return this.s.slice(start, this.pos);
  }
  expect(str: string, reason: string): void {
    if (!this.at(str)) this.fail(reason);
    this.pos += str.length;
  }

  document(): void {
    if (this.at('\uFEFF')) this.pos++;
    if (/^<\?xml[\s?]/.test(this.s.slice(this.pos, this.pos + 6))) this.declaration();
    for (;;) {
      this.skipSpace();
      if (this.pos >= this.s.length) break;
      if (this.at('<!--')) this.comment();
      else if (this.at('<?')) this.pi();
      else if (this.at('<!')) this.fail('DOCTYPE and other declarations are not allowed');
      else if (this.at('<')) {
        if (this.root !== null) this.fail('a second root element');
        this.element();
      } else this.fail(this.root === null ? 'text before the root element' : 'text after the root element');
    }
    if (this.root === null) this.fail('no root element');
  }

  declaration(): void {
    const end = this.s.indexOf('?>', this.pos);
    if (end < 0) this.fail('unterminated XML declaration');
    if (!/\sversion\s*=\s*["']1\.[0-9]["']/.test(this.s.slice(this.pos, end))) this.fail('XML declaration without version');
    this.pos = end + 2;
  }

  comment(): void {
    const end = this.s.indexOf('--', this.pos + 4);
    if (end < 0) this.fail('unterminated comment');
    if (this.s[end + 2] !== '>') this.fail("'--' inside a comment", end);
    this.pos = end + 3;
  }

  pi(): void {
    this.pos += 2;
    const target = this.name('processing instruction');
    if (target.toLowerCase() === 'xml') this.fail('XML declaration not at the start of the document');
    const end = this.s.indexOf('?>', this.pos);
    if (end < 0) this.fail('unterminated processing instruction');
    this.pos = end + 2;
  }

  reference(limit = this.s.length): void {
    const start = this.pos;
    const semi = this.s.indexOf(';', start);
    if (semi < 0 || semi >= limit || semi - start > 12) this.fail("'&' that does not start an entity reference", start);
    const body = this.s.slice(start + 1, semi);
    let cp: number | null = null;
    if (/^#[0-9]{1,7}$/.test(body)) cp = Number(body.slice(1));
    else if (/^#x[0-9A-Fa-f]{1,6}$/.test(body)) cp = parseInt(body.slice(2), 16);
    else if (!PREDEFINED.has(body)) this.fail(`unknown entity '&${body};'`, start);
    if (cp !== null && !isXmlChar(cp)) this.fail(`character reference '&${body};' is not an XML character`, start);
    this.pos = semi + 1;
  }

  /** Start tag; returns the name and whether it was empty (`/>`). */
  startTag(): { name: string; empty: boolean } {
    this.pos++; // '<'
    const name = this.name('element');
    const seen = new Set<string>();
    for (;;) {
      const spaced = this.skipSpace();
      if (this.at('/>')) {
        this.pos += 2;
        return { name, empty: true };
      }
      if (this.at('>')) {
        this.pos++;
        return { name, empty: false };
      }
      if (this.pos >= this.s.length) this.fail(`unterminated start tag <${name}>`);
      if (!spaced) this.fail(`expected whitespace before an attribute in <${name}>`);
      const attr = this.name('attribute');
      if (seen.has(attr)) this.fail(`duplicate attribute '${attr}' in <${name}>`);
      seen.add(attr);
      this.skipSpace();
      this.expect('=', `expected '=' after attribute '${attr}'`);
      this.skipSpace();
      const quote = this.s[this.pos];
      if (quote !== '"' && quote !== "'") this.fail(`unquoted value for attribute '${attr}'`);
      const end = this.s.indexOf(quote, this.pos + 1);
      if (end < 0) this.fail(`unterminated value for attribute '${attr}'`);
      this.pos++;
      while (this.pos < end) {
        const c = this.s[this.pos];
        if (c === '<') this.fail(`'<' in the value of attribute '${attr}'`);
        if (c === '&') this.reference(end);
        else this.pos++;
      }
      this.pos = end + 1;
    }
  }

  element(): void {
    const first = this.startTag();
    this.root = first.name;
    if (first.empty) return;
    const stack = [first.name];
    while (stack.length > 0) {
      if (this.pos >= this.s.length) this.fail(`unclosed element <${stack[stack.length - 1]}>`);
      const c = this.s[this.pos];
      if (c === '<') {
        if (this.at('</')) {
          const tagAt = this.pos;
          this.pos += 2;
          const name = this.name('closing element');
          this.skipSpace();
          this.expect('>', `expected '>' to end </${name}>`);
          const open = stack.pop();
          if (open !== name) this.fail(`</${name}> does not close <${open}>`, tagAt);
        } else if (this.at('<!--')) this.comment();
        else if (this.at('<![CDATA[')) {
          const end = this.s.indexOf(']]>', this.pos + 9);
          if (end < 0) this.fail('unterminated CDATA section');
          this.pos = end + 3;
        } else if (this.at('<?')) this.pi();
        else if (this.at('<!')) this.fail('declarations are not allowed inside elements');
        else {
          const child = this.startTag();
          if (!child.empty) stack.push(child.name);
        }
      } else if (c === '&') this.reference();
      else if (c === ']' && this.at(']]>')) this.fail("']]>' in text");
      else this.pos++;
    }
  }
}

function lineAt(text: string, pos: number): number {
  let line = 1;
  for (let i = 0; i < pos && i < text.length; i++) if (text.charCodeAt(i) === 10) line++;
  return line;
}

export interface XmlCheck {
  /** Name of the root element, null when the document is not well-formed. */
  root: string | null;
  problems: LintProblem[];
}

export function checkXml(text: string): XmlCheck {
  const illegal = ILLEGAL_CHAR.exec(text);
  if (illegal) {
    const cp = illegal[0].codePointAt(0) ?? 0;
    const hex = cp.toString(16).toUpperCase().padStart(4, '0');
    return { root: null, problems: [{ line: lineAt(text, illegal.index), reason: `character U+${hex} is not allowed in XML` }] };
  }
  const scanner = new Scanner(text);
  try {
    scanner.document();
    return { root: scanner.root, problems: [] };
  } catch (e) {
    if (!(e instanceof XmlSyntaxError)) throw e;
    return { root: null, problems: [{ line: lineAt(text, e.pos), reason: e.reason }] };
  }
}

/** Well-formed, and the root element is the one the template promises. */
export function lintXml(text: string, template: TemplateInfo): LintProblem[] {
  const { root, problems } = checkXml(text);
  if (problems.length > 0) return problems;
  if (template.rootElement !== null && root !== template.rootElement) {
    const at = text.indexOf(`<${root ?? ''}`);
    return [{ line: at < 0 ? 1 : lineAt(text, at), reason: `root element is <${root ?? ''}>, expected <${template.rootElement}>` }];
  }
  return [];
}
