/**
 * The one Handlebars environment phone templates are compiled in.
 *
 * - Isolated (`Handlebars.create()`): nothing registered globally leaks in or out.
 * - `noEscape`: adapters escape every value for the file format in buildView; HTML escaping
 *   on top would corrupt XML entities and Yealink values alike.
 * - `strict`: a mustache naming a missing field fails the render instead of printing "".
 * - `knownHelpersOnly`: only the whitelisted helpers below (and the safe built-ins) can be
 *   called; an unknown helper is a compile error, not a runtime surprise.
 * - Built-ins removed: `log` (writes template data, possibly passwords, to the server
 *   console) and `lookup` (property access by a computed name, the one way round the
 *   path checks below). Partials and decorators are refused: templates are single files.
 * - Paths through `constructor`, `__proto__`, `prototype` or any Object.prototype member
 *   are refused at compile time; prototype access also stays off at run time (the 4.7
 *   default, set explicitly here, never to be enabled).
 */
import Handlebars from 'handlebars';

export class TemplateError extends Error {
  constructor(
    /** 1-based line in the template source. */
    readonly line: number,
    readonly reason: string,
  ) {
    super(`line ${line}: ${reason}`);
    this.name = 'TemplateError';
  }
}

export interface CompiledTemplate {
  /** Renders with an adapter-built view; throws TemplateError (e.g. a missing field in strict mode). */
  render(view: Record<string, unknown>): string;
}

/** Longest template accepted (characters). */
export const MAX_TEMPLATE_LENGTH = 256 * 1024;

const FORBIDDEN_SEGMENTS = new Set<string>([...Object.getOwnPropertyNames(Object.prototype), '__proto__', 'prototype']);

type HelperFn = (...args: unknown[]) => unknown;

/** Helpers receive Handlebars' options object last; these strip it. */
const HELPERS: Readonly<Record<string, HelperFn>> = {
  eq: (...a) => args(a)[0] === args(a)[1],
  ne: (...a) => args(a)[0] !== args(a)[1],
  not: (...a) => !truthy(args(a)[0]),
  and: (...a) => args(a).every(truthy),
  or: (...a) => args(a).some(truthy),
  /** `{{join list ","}}`: joins an array's items (already escaped) with a literal separator. */
  join: (...a) => {
    const [list, sep] = args(a);
    return Array.isArray(list) ? list.map((v) => String(v)).join(typeof sep === 'string' ? sep : ',') : '';
  },
  /** `{{add @index 1}}`: integer arithmetic for 1-based indexes. */
  add: (...a) => args(a).reduce<number>((sum, v) => sum + (typeof v === 'number' ? v : Number(v)), 0),
};

function args(a: unknown[]): unknown[] {
  return a.slice(0, -1);
}
function truthy(v: unknown): boolean {
  return Array.isArray(v) ? v.length > 0 : Boolean(v);
}

const env = Handlebars.create();
env.unregisterHelper('log');
env.unregisterHelper('lookup');
for (const [name, fn] of Object.entries(HELPERS)) env.registerHelper(name, fn);

const COMPILE_OPTIONS = {
  strict: true,
  noEscape: true,
  knownHelpersOnly: true,
  knownHelpers: {
    log: false,
    lookup: false,
    ...Object.fromEntries(Object.keys(HELPERS).map((n) => [n, true])),
  },
} as const;

const RUNTIME_OPTIONS = {
  allowProtoPropertiesByDefault: false,
  allowProtoMethodsByDefault: false,
} as const;

interface AstNode {
  type?: unknown;
  loc?: { start?: { line?: number } } | null;
  parts?: unknown;
  [key: string]: unknown;
}

/** Walks the parsed template and refuses what the environment does not allow. */
function checkAst(node: unknown, depth = 0): void {
  if (node === null || typeof node !== 'object' || depth > 200) return;
  if (Array.isArray(node)) {
    for (const child of node) checkAst(child, depth + 1);
    return;
  }
  const n = node as AstNode;
  const line = n.loc?.start?.line ?? 1;
  switch (n.type) {
    case 'PartialStatement':
    case 'PartialBlockStatement':
      throw new TemplateError(line, 'partials are not supported');
    case 'Decorator':
    case 'DecoratorBlock':
      throw new TemplateError(line, 'decorators and inline partials are not supported');
    case 'PathExpression':
      if (Array.isArray(n.parts)) {
        for (const part of n.parts) {
          if (typeof part === 'string' && FORBIDDEN_SEGMENTS.has(part)) {
            throw new TemplateError(line, `access to "${part}" is not allowed`);
          }
        }
      }
      break;
  }
  for (const [key, value] of Object.entries(n)) {
    if (key !== 'loc' && value !== null && typeof value === 'object') checkAst(value, depth + 1);
  }
}

/** Handlebars errors carry the line as `lineNumber` (compiler, runtime) or in the message (parser). */
function toTemplateError(e: unknown): TemplateError {
  if (e instanceof TemplateError) return e;
  const err = e instanceof Error ? e : new Error(String(e));
  const fromField = (err as { lineNumber?: unknown }).lineNumber;
  const fromMessage = /^Parse error on line (\d+):/.exec(err.message)?.[1];
  const line = typeof fromField === 'number' && fromField > 0 ? fromField : fromMessage ? Number(fromMessage) : 1;
  // Drop Handlebars' " - 3:2" location suffix; the line is reported separately.
  const reason = err.message.replace(/ - \d+:\d+$/, '').replace(/^Parse error on line \d+:\n/, '');
  return new TemplateError(line, reason);
}

export function compileTemplate(source: string): CompiledTemplate {
  if (source.length > MAX_TEMPLATE_LENGTH) {
    throw new TemplateError(1, `template is longer than ${MAX_TEMPLATE_LENGTH} characters`);
  }
  let template: Handlebars.TemplateDelegate<Record<string, unknown>>;
  try {
    checkAst(env.parse(source));
    // precompile runs the compiler eagerly (compile() is lazy), so unknown helpers and
    // mismatched blocks fail here, at save time, not on a phone's request.
    env.precompile(source, COMPILE_OPTIONS);
    template = env.compile<Record<string, unknown>>(source, COMPILE_OPTIONS);
  } catch (e) {
    throw toTemplateError(e);
  }
  return {
    render(view: Record<string, unknown>): string {
      try {
        return template(view, RUNTIME_OPTIONS);
      } catch (e) {
        throw toTemplateError(e);
      }
    },
  };
}
