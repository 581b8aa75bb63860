/** Turning a schema failure into the API's 400, naming the field. */
import type { z } from 'zod';
import { invalid } from '../errors.js';

export interface FieldProblem {
  field: string;
  message: string;
}

export function problemsOf(error: z.ZodError, what = 'body'): FieldProblem[] {
  return error.issues.map((i) => {
    if (i.code === 'unrecognized_keys') {
      return { field: i.keys.map((k) => [...i.path, k].join('.')).join(', '), message: 'unknown field' };
    }
    return { field: i.path.join('.') || what, message: i.message };
  });
}

export function parseWith<S extends z.ZodType>(schema: S, input: unknown, what = 'body'): z.output<S> {
  // express.json() leaves the body undefined when the request did not say it was JSON.
  if (input === undefined && what === 'body') throw invalid('body: expected a JSON object, sent with Content-Type: application/json');
  const r = schema.safeParse(input);
  if (r.success) return r.data;
  const fields = problemsOf(r.error, what);
  const first = fields[0]!;
  throw invalid(`${first.field}: ${first.message}`, { fields });
}
