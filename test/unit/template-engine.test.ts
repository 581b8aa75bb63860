import { expect } from 'chai';
import {
  compileTemplate,
  MAX_LOOP_NESTING,
  MAX_RENDER_ITERATIONS,
  MAX_RENDER_OUTPUT,
  MAX_TEMPLATE_LENGTH,
  TemplateError,
} from '../../server/services/template-engine.js';

function compileError(source: string): TemplateError {
  try {
    compileTemplate(source);
  } catch (e) {
    expect(e).to.be.instanceOf(TemplateError);
    return e as TemplateError;
  }
  expect.fail(`expected ${JSON.stringify(source)} not to compile`);
}

function renderError(source: string, view: Record<string, unknown>): TemplateError {
  const t = compileTemplate(source);
  try {
    t.render(view);
  } catch (e) {
    expect(e).to.be.instanceOf(TemplateError);
    return e as TemplateError;
  }
  expect.fail(`expected ${JSON.stringify(source)} not to render`);
}

describe('template engine', () => {
  describe('compiling', () => {
    it('reports the line of a parse error', () => {
      const e = compileError('line one\nline two\nkey = {{value\n');
      expect(e.line).to.equal(3);
      expect(e.reason).to.match(/Expecting/);
      expect(e.message).to.match(/^line 3: /);
    });

    it('reports the line of mismatched blocks', () => {
      const e = compileError('a\nb\n{{#if x}}\nc\n{{/unless}}\n');
      expect(e.line).to.be.oneOf([3, 5]);
      expect(e.reason).to.match(/doesn't match/);
    });

    it('refuses unknown helpers at compile time', () => {
      const e = compileError('ok\n{{shout name}}');
      expect(e.line).to.equal(2);
      expect(e.reason).to.match(/unknown helper shout/);
    });

    it('refuses the log and lookup built-ins', () => {
      expect(compileError('{{log "x"}}').reason).to.match(/unknown helper log/);
      expect(compileError('{{lookup this "a"}}').reason).to.match(/unknown helper lookup/);
    });

    it('refuses partials and inline partials', () => {
      expect(compileError('a\n{{> other}}').line).to.equal(2);
      expect(compileError('{{#> layout}}x{{/layout}}').reason).to.match(/partials/);
      expect(compileError('{{#*inline "p"}}x{{/inline}}').reason).to.match(/inline partials/);
    });

    it('refuses prototype paths: constructor, __proto__ and Object.prototype members', () => {
      for (const src of [
        '{{constructor}}',
        '{{constructor.name}}',
        '{{__proto__}}',
        '{{this.[__proto__]}}',
        '{{device.constructor.prototype}}',
        '{{@root.constructor}}',
        '{{#with constructor}}{{name}}{{/with}}',
        '{{#if (eq a.__proto__ 1)}}x{{/if}}',
        '{{hasOwnProperty}}',
        '{{x.toString}}',
      ]) {
        expect(compileError(src).reason, src).to.match(/is not allowed/);
      }
      expect(compileError('a\nb\n  {{x.__proto__.y}}').line).to.equal(3);
    });

    it('refuses a template nested too deeply to check, rather than leaving its paths unchecked', () => {
      const deep = '{{#if a}}'.repeat(80) + '{{constructor}}' + '{{/if}}'.repeat(80);
      expect(compileError(deep).reason).to.equal('template is nested too deeply');
    });

    it('refuses over-long templates', () => {
      expect(compileError('x'.repeat(MAX_TEMPLATE_LENGTH + 1)).reason).to.match(/longer than/);
    });
  });

  describe('rendering', () => {
    it('does not escape: values arrive escaped from the adapter', () => {
      expect(compileTemplate('v={{a}} w={{{a}}}').render({ a: '&lt;&amp;' })).to.equal('v=&lt;&amp; w=&lt;&amp;');
      expect(compileTemplate('{{a}}').render({ a: `<"'&>` })).to.equal(`<"'&>`);
    });

    it('throws with the line for a missing field (strict mode)', () => {
      const e = renderError('one\ntwo {{device.mac}}\nthree {{device.model}}', { device: { mac: 'x' } });
      expect(e.line).to.equal(3);
      // The path as the template wrote it, not just its last segment.
      expect(e.reason).to.equal('"device.model" is not in the view');
      expect(renderError('{{#each slots}}\n  {{value}} {{valeu}}{{/each}}', { slots: [{ value: 1 }] }).reason).to.equal('"valeu" is not in the view');
      expect(renderError('{{#with line}}{{label}}{{/with}} {{ line.lable }}', { line: { label: 'a' } }).reason).to.equal('"line.lable" is not in the view');
    });

    it('throws for a field under null (a line on an unassigned device)', () => {
      const e = renderError('a\n{{line.password}}', { line: null });
      expect(e.line).to.equal(2);
    });

    it('falls back to line 1 when the error carries no location', () => {
      const e = renderError('a\n{{#if line.password}}x{{/if}}', { line: null });
      expect(e.line).to.equal(1);
    });

    it('renders null fields as empty and tests them with if', () => {
      const t = compileTemplate('[{{device.label}}]{{#if line}}L{{else}}none{{/if}}');
      expect(t.render({ device: { label: null }, line: null })).to.equal('[]none');
    });

    it('supports each, with, unless and @index', () => {
      const t = compileTemplate('{{#each list}}{{@index}}={{this}};{{/each}}{{#with o}}{{k}}{{/with}}{{#unless f}}!{{/unless}}');
      expect(t.render({ list: ['a', 'b'], o: { k: 'K' }, f: false })).to.equal('0=a;1=b;K!');
    });

    it('helpers: eq, ne, not, and, or, join, add', () => {
      const t = compileTemplate(
        '{{#if (eq s "guest")}}G{{/if}}{{#if (ne s "guest")}}N{{/if}}{{#if (not f)}}!{{/if}}' +
          '{{#if (and t f)}}A{{/if}}{{#if (or t f)}}O{{/if}}|{{join list ","}}|{{add 1 2}}|' +
          '{{#each list}}{{add @index 1}}{{/each}}',
      );
      expect(t.render({ s: 'guest', f: false, t: true, list: ['911', '112'] })).to.equal('G!O|911,112|3|12');
      expect(t.render({ s: 'owner', f: false, t: true, list: [] })).to.equal('N!O||3|');
    });

    it('never reaches inherited properties at run time', () => {
      // A data object with a prototype chain: only own properties are visible.
      const proto = { secret: 'inherited' };
      const view = Object.create(proto) as Record<string, unknown>;
      view['own'] = 'yes';
      expect(compileTemplate('{{own}}').render(view)).to.equal('yes');
      expect(compileTemplate('{{#if secret}}leak{{/if}}').render(view)).to.equal('');
    });

    it('compiled templates are reusable and independent', () => {
      const t = compileTemplate('{{a}}');
      expect(t.render({ a: 1 })).to.equal('1');
      expect(t.render({ a: 'two' })).to.equal('two');
    });
  });

  describe('bounded work (a template cannot take the server down)', () => {
    /** `depth` loops over `path`, each inside the last, around `body`. */
    const nested = (depth: number, path: string, body = 'x') => `{{#each ${path}}}`.repeat(depth) + body + '{{/each}}'.repeat(depth);
    const list = (n: number) => Array.from({ length: n }, (_, i) => i);

    it('refuses the security review\'s template (11 nested loops over the emergency slots) at compile time, quickly', () => {
      const source = `#!version:1.0.0.1\n# ${nested(11, '@root.emergency.slots')}\n`;
      const started = Date.now();
      const e = compileError(source);
      expect(Date.now() - started).to.be.below(2000);
      expect(e.line).to.equal(2);
      expect(e.reason).to.equal(`loops nested more than ${MAX_LOOP_NESTING} deep`);
    });

    it('counts sections over a list as loops, but not if/unless/with or long else-if chains', () => {
      const sections = '{{#l}}'.repeat(MAX_LOOP_NESTING + 1) + 'x' + '{{/l}}'.repeat(MAX_LOOP_NESTING + 1);
      expect(compileError(sections).reason).to.match(/loops nested/);
      const ifs = '{{#if a}}{{#unless b}}{{#with c}}'.repeat(4) + 'x' + '{{/with}}{{/unless}}{{/if}}'.repeat(4);
      let view: Record<string, unknown> = {};
      for (let i = 0; i < 4; i++) view = { a: true, b: false, c: view };
      expect(compileTemplate(ifs).render(view)).to.equal('x');
      const chain = '{{#if a}}A' + Array.from({ length: 12 }, (_, i) => `{{else if (eq s ${i})}}${i}`).join('') + '{{/if}}';
      expect(compileTemplate(chain).render({ a: false, s: 11 })).to.equal('11');
      expect(compileTemplate(nested(MAX_LOOP_NESTING, '@root.l')).render({ l: [1, 2] })).to.equal('x'.repeat(2 ** MAX_LOOP_NESTING));
    });

    it('stops a render whose loops run more than the budget, with the loop\'s line, and stays usable', () => {
      const t = compileTemplate(`one\n${nested(4, '@root.l')}\n`);
      const e = renderError(`one\n${nested(4, '@root.l')}\n`, { l: list(20) }); // 20^4 = 160,000 iterations
      expect(e.reason).to.equal(`loops ran more than ${MAX_RENDER_ITERATIONS} times in one render (nested {{#each}}?)`);
      expect(e.line).to.equal(2);
      // The budget is per render: the same template renders a small list, again and again.
      expect(t.render({ l: list(3) })).to.equal(`one\n${'x'.repeat(81)}\n`);
      expect(t.render({ l: list(3) })).to.equal(`one\n${'x'.repeat(81)}\n`);
      // Sequential loops share one budget too.
      const many = compileTemplate('{{#each l}}a{{/each}}'.repeat(11));
      expect(many.render({ l: list(900) })).to.have.length(9900);
      expect(() => many.render({ l: list(1000) })).to.throw(TemplateError, /loops ran more than/);
    });

    it('counts sections over a list against the same budget', () => {
      const e = renderError('{{#l}}{{#@root.l}}{{#@root.l}}{{#@root.l}}x{{/@root.l}}{{/@root.l}}{{/@root.l}}{{/l}}', { l: list(20) });
      expect(e.reason).to.match(/loops ran more than/);
    });

    it('stops a render whose loops produce more than the output limit', () => {
      const big = 'y'.repeat(250_000);
      expect(renderError(`{{#each l}}${big}{{/each}}`, { l: list(5) }).reason).to.equal(
        `loops produced more than ${MAX_RENDER_OUTPUT} characters in one render`,
      );
      // Nested: few iterations, but each inner one repeats a large body.
      expect(renderError(`${nested(3, '@root.l', big)}`, { l: list(5) }).reason).to.match(/loops produced more than/);
      // Output outside loops is limited too.
      expect(renderError('{{v}}', { v: 'z'.repeat(MAX_RENDER_OUTPUT + 1) }).reason).to.match(/rendered file is longer than/);
    });

    it('keeps each as it was: @index, @key, @first, @last, else, block params, objects', () => {
      const t = compileTemplate('{{#each l}}{{@index}}{{#if @first}}F{{/if}}{{#if @last}}L{{/if}}{{this}};{{else}}none{{/each}}|{{#each o as |v k|}}{{k}}={{v}},{{/each}}|{{#l}}<{{this}}>{{/l}}');
      expect(t.render({ l: ['a', 'b', 'c'], o: { x: 1, y: 2 } })).to.equal('0Fa;1b;2Lc;|x=1,y=2,|<a><b><c>');
      expect(t.render({ l: [], o: {} })).to.equal('none||');
    });

    it('renders a realistic loop of a thousand items well inside the budget', () => {
      expect(compileTemplate('{{#each l}}key.{{add @index 1}} = {{this}}\n{{/each}}').render({ l: list(1000) }).split('\n')).to.have.length(1001);
    });
  });
});
