/**
 * Where deskprov's own files are (migrations, vendor templates, the console's pages,
 * package.json), whether it runs from its TypeScript sources under tsx (tests, scripts) or
 * compiled into dist/ (`npm start`): the directory above this module that holds package.json.
 */
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

function findRoot(from: string): string {
  for (let dir = from; ; dir = dirname(dir)) {
    if (existsSync(join(dir, 'package.json'))) return dir;
    if (dirname(dir) === dir) throw new Error(`no package.json in or above ${from}`);
  }
}

export const PROJECT_ROOT = findRoot(dirname(fileURLToPath(import.meta.url)));

/** A path inside the project, e.g. projectPath('db', 'migrations'). */
export const projectPath = (...parts: string[]): string => join(PROJECT_ROOT, ...parts);

/**
 * The file of module `name` beside the module at `moduleUrl` (its import.meta.url), with that
 * module's own extension: `.ts` from the sources, `.js` compiled. For entry points a process
 * starts itself (a phone worker, a thread).
 */
export const siblingModule = (moduleUrl: string, name: string): string =>
  fileURLToPath(new URL(`./${name}${moduleUrl.endsWith('.ts') ? '.ts' : '.js'}`, moduleUrl));
