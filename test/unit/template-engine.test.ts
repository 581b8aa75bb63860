import { expect } from 'chai';
import { compileTemplate, MAX_TEMPLATE_LENGTH, TemplateError } from '../../server/services/template-engine.js';

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
      expect(e.reason).to.match(/"model" not defined/);
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
});
