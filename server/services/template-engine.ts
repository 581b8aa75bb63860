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
 * - Bounded work: loops nested more than MAX_LOOP_NESTING deep are refused at compile time,
 *   and every render has a budget (MAX_RENDER_ITERATIONS loop iterations, MAX_RENDER_OUTPUT
 *   characters). A few hundred bytes of nested `{{#each}}` would otherwise multiply into
 *   millions of iterations: seconds of a blocked event loop, then an out-of-memory crash.
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

/**
 * Loops (`{{#each}}`, or a section over a list such as `{{#location.emergencyNumbers}}`) inside
 * loops: deeper nesting is refused at compile time. Real templates nest two at most.
 */
export const MAX_LOOP_NESTING = 4;

/** Loop iterations one render may run, all loops together. Shipped templates run a handful. */
export const MAX_RENDER_ITERATIONS = 10_000;

/** Longest output of one render (characters). Shipped templates render a few kilobytes. */
export const MAX_RENDER_OUTPUT = 1024 * 1024;

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

/**
 * What the render in progress has used so far. Renders are synchronous and this environment is
 * private to the module, so the one running render owns it; `render` sets and restores it.
 */
interface RenderBudget {
  iterations: number;
  /** Characters produced by loop bodies, each character counted once however deep. */
  output: number;
}
let budget: RenderBudget | null = null;

function lineOf(options: Handlebars.HelperOptions): number {
  const line = (options as { loc?: { start?: { line?: unknown } } }).loc?.start?.line;
  return typeof line === 'number' && line > 0 ? line : 1;
}

const env = Handlebars.create();
env.unregisterHelper('log');
env.unregisterHelper('lookup');
for (const [name, fn] of Object.entries(HELPERS)) env.registerHelper(name, fn);

/**
 * `each` as built in, with every iteration charged to the render's budget. Sections over a
 * list (`{{#list}}...{{/list}}`) go through this helper too (Handlebars' blockHelperMissing
 * calls `helpers.each`). The body is charged before it runs, its output once it returned:
 * an inner loop's output is already charged, so only what this level added counts.
 */
const builtinEach = env.helpers['each'] as (this: unknown, context: unknown, options: Handlebars.HelperOptions) => string;
env.registerHelper('each', function (this: unknown, context: unknown, options: Handlebars.HelperOptions): string {
  const b = budget;
  if (!b) throw new Error('template engine: each called outside a render');
  const line = lineOf(options);
  const body = options.fn;
  const charged: Handlebars.TemplateDelegate = (item, runtime) => {
    if (++b.iterations > MAX_RENDER_ITERATIONS) {
      throw new TemplateError(line, `loops ran more than ${MAX_RENDER_ITERATIONS} times in one render (nested {{#each}}?)`);
    }
    const innerBefore = b.output;
    const out = body(item, runtime);
    b.output += out.length - (b.output - innerBefore);
    if (b.output > MAX_RENDER_OUTPUT) {
      throw new TemplateError(line, `loops produced more than ${MAX_RENDER_OUTPUT} characters in one render`);
    }
    return out;
  };
  return builtinEach.call(this, context, { ...options, fn: charged });
});

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
  loc?: { start?: { line?: number; column?: number } } | null;
  parts?: unknown;
  original?: unknown;
  [key: string]: unknown;
}

/** Blocks that run their body at most once; any other block may loop over a list. */
const SINGLE_PASS_BLOCKS = new Set<string>(['if', 'unless', 'with', ...Object.keys(HELPERS)]);

/** Deepest AST walked; a template nested deeper is refused rather than left unchecked. */
const MAX_AST_DEPTH = 200;

function isLoop(n: AstNode): boolean {
  const path = n.path as { type?: unknown; original?: unknown } | undefined;
  return !(path?.type === 'PathExpression' && typeof path.original === 'string' && SINGLE_PASS_BLOCKS.has(path.original));
}

/**
 * Walks the parsed template and refuses what the environment does not allow. Records each path
 * expression as written ("line.label") by where it starts ("line:column") in `paths`, so a
 * strict-mode error at render time can name it.
 */
function checkAst(node: unknown, paths: Map<string, string>, depth = 0, loops = 0): void {
  if (node === null || typeof node !== 'object') return;
  if (depth > MAX_AST_DEPTH) {
    const line = (node as AstNode).loc?.start?.line ?? 1;
    throw new TemplateError(line, 'template is nested too deeply');
  }
  if (Array.isArray(node)) {
    for (const child of node) checkAst(child, paths, depth + 1, loops);
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
      if (typeof n.original === 'string' && n.loc?.start) paths.set(`${n.loc.start.line}:${n.loc.start.column}`, n.original);
      if (Array.isArray(n.parts)) {
        for (const part of n.parts) {
          if (typeof part === 'string' && FORBIDDEN_SEGMENTS.has(part)) {
            throw new TemplateError(line, `access to "${part}" is not allowed`);
          }
        }
      }
      break;
    case 'BlockStatement':
      if (isLoop(n)) {
        if (loops + 1 > MAX_LOOP_NESTING) {
          throw new TemplateError(line, `loops nested more than ${MAX_LOOP_NESTING} deep`);
        }
        // The body runs once per item; the {{else}} part at most once, outside the loop.
        const { program, ...rest } = n;
        checkAst(program, paths, depth + 1, loops + 1);
        for (const [key, value] of Object.entries(rest)) {
          if (key !== 'loc' && value !== null && typeof value === 'object') checkAst(value, paths, depth + 1, loops);
        }
        return;
      }
      break;
  }
  for (const [key, value] of Object.entries(n)) {
    if (key !== 'loc' && value !== null && typeof value === 'object') checkAst(value, paths, depth + 1, loops);
  }
}

/** Handlebars errors carry the line as `lineNumber` (compiler, runtime) or in the message (parser). */
function toTemplateError(e: unknown, paths?: ReadonlyMap<string, string>): TemplateError {
  if (e instanceof TemplateError) return e;
  const err = e instanceof Error ? e : new Error(String(e));
  const fromField = (err as { lineNumber?: unknown }).lineNumber;
  const fromMessage = /^Parse error on line (\d+):/.exec(err.message)?.[1];
  const line = typeof fromField === 'number' && fromField > 0 ? fromField : fromMessage ? Number(fromMessage) : 1;
  // Strict mode names only the last segment ("x" not defined in [object Object]): name the
  // path as the template wrote it, found by where it starts.
  const missing = /^"([^"]*)" not defined in .* - (\d+):(\d+)$/.exec(err.message);
  if (missing) {
    const written = paths?.get(`${missing[2]}:${missing[3]}`) ?? missing[1];
    return new TemplateError(line, `"${written}" is not in the view`);
  }
  // Drop Handlebars' " - 3:2" location suffix; the line is reported separately.
  const reason = err.message.replace(/ - \d+:\d+$/, '').replace(/^Parse error on line \d+:\n/, '');
  return new TemplateError(line, reason);
}


export function compileTemplate(source: string): CompiledTemplate {
  if (source.length > MAX_TEMPLATE_LENGTH) {
    throw new TemplateError(1, `template is longer than ${MAX_TEMPLATE_LENGTH} characters`);
  }
  let template: Handlebars.TemplateDelegate<Record<string, unknown>>;
  const paths = new Map<string, string>();
  try {
    checkAst(env.parse(source), paths);
    // precompile runs the compiler eagerly (compile() is lazy), so unknown helpers and
    // mismatched blocks fail here, at save time, not on a phone's request.
    env.precompile(source, COMPILE_OPTIONS);
    template = env.compile<Record<string, unknown>>(source, COMPILE_OPTIONS);
  } catch (e) {
    throw toTemplateError(e);
  }
  return {
    render(view: Record<string, unknown>): string {
      const outer = budget;
      budget = { iterations: 0, output: 0 };
      try {
        const text = template(view, RUNTIME_OPTIONS);
        if (text.length > MAX_RENDER_OUTPUT) {
          throw new TemplateError(1, `the rendered file is longer than ${MAX_RENDER_OUTPUT} characters`);
        }
        return text;
      } catch (e) {
        throw toTemplateError(e, paths);
      } finally {
        budget = outer;
      }
    },
  };
}
