/**
 * The gate a template passes before it can reach a phone: it compiles (strict), renders for a
 * sample device in every state (or the sample common view), and each render passes the
 * vendor's format lint. Any failure is a 400 `invalid_template` naming line, reason and state.
 */
import type { DeviceState } from '../domain/types.js';
import { AppError, invalid, notFound } from '../errors.js';
import { sampleCommonView, sampleViews } from '../../vendors/sample.js';
import type { LintProblem, TemplateInfo, VendorAdapter } from '../../vendors/vendor.js';
import { compileTemplate, TemplateError, type CompiledTemplate } from './template-engine.js';

/** Where a check failed: a sample state, "common", "compile", or a real device ("device <mac>"). */
export type CheckStage = DeviceState | 'common' | 'compile' | `device ${string}`;

export interface TemplateProblem {
  line: number;
  reason: string;
  state: CheckStage;
}

const STATES: readonly DeviceState[] = ['owner', 'guest', 'unassigned'];

export function invalidTemplate(problem: TemplateProblem, more: readonly LintProblem[] = []): AppError {
  const message = `template refused (${problem.state}): line ${problem.line}: ${problem.reason}`;
  const details = more.length > 1 ? { ...problem, problems: more.slice(0, 20) } : problem;
  return new AppError(400, 'invalid_template', message, details);
}

/** Compile `source`, or throw the 400 carrying the engine's line and reason. */
export function compileChecked(source: string): CompiledTemplate {
  try {
    return compileTemplate(source);
  } catch (e) {
    if (e instanceof TemplateError) throw invalidTemplate({ line: e.line, reason: e.reason, state: 'compile' });
    throw e;
  }
}

/** Render with an adapter-built view, turning engine errors into the 400. */
export function renderChecked(compiled: CompiledTemplate, view: Record<string, unknown>, state: CheckStage): string {
  try {
    return compiled.render(view);
  } catch (e) {
    if (e instanceof TemplateError) throw invalidTemplate({ line: e.line, reason: e.reason, state });
    throw e;
  }
}

export function lintChecked(adapter: VendorAdapter, info: TemplateInfo, rendered: string, state: CheckStage): void {
  const problems = adapter.lint(rendered, info);
  const first = problems[0];
  if (first) throw invalidTemplate({ line: first.line, reason: first.reason, state }, problems);
}

/** The model a variant name targets: "device.T46U" → "T46U", "device" → null. */
export function variantModel(name: string): string | null {
  const dot = name.indexOf('.');
  return dot < 0 ? null : name.slice(dot + 1);
}

/**
 * Full check of a candidate: compile, then render + lint for every sample state of the vendor
 * (a model variant renders with that model in the sample). Returns the compiled template.
 */
export function checkTemplate(adapter: VendorAdapter, info: TemplateInfo, name: string, source: string): CompiledTemplate {
  const compiled = compileChecked(source);
  if (info.view === 'common') {
    const rendered = renderChecked(compiled, adapter.buildCommonView(sampleCommonView()), 'common');
    lintChecked(adapter, info, rendered, 'common');
    return compiled;
  }
  const samples = sampleViews(adapter.id);
  const model = variantModel(name);
  for (const state of STATES) {
    const view = samples[state];
    if (model !== null) view.device.model = model;
    const rendered = renderChecked(compiled, adapter.buildView(view), state);
    lintChecked(adapter, info, rendered, state);
  }
  return compiled;
}

/** A template an admin names in a URL, checked against the vendor's adapter. */
export interface TemplateTarget {
  adapter: VendorAdapter;
  info: TemplateInfo;
  vendor: string;
  /** As named: "device" or a model variant "device.T46U". */
  name: string;
  /** The shipped name it belongs to: "device". */
  base: string;
  /** The model of a variant, null for a base name. */
  model: string | null;
}

const NAME = /^[a-z0-9][a-z0-9-]{0,39}(\.[A-Za-z0-9_-]{1,40})?$/;

/**
 * 404 for an unknown vendor or template, 400 for a name outside the allowed characters or a
 * model variant of a template that is not rendered per device.
 */
export function templateTarget(vendor: string, name: string, adapterOf: (id: string) => VendorAdapter | null): TemplateTarget {
  const adapter = adapterOf(vendor);
  if (!adapter) throw notFound(`vendor ${vendor}`);
  if (!NAME.test(name)) throw invalid('template name: expected "<name>" or "<name>.<Model>" (letters, digits, "-" and "_")');
  const model = variantModel(name);
  const base = model === null ? name : name.slice(0, name.indexOf('.'));
  const info = adapter.templates.find((t) => t.name === base);
  if (!info) throw notFound(`template ${vendor}/${base}`);
  if (model !== null && info.view !== 'device') throw invalid(`template ${vendor}/${base} is not rendered per device: it has no model variants`);
  return { adapter, info, vendor, name, base, model };
}
