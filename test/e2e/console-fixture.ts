/**
 * Shared set-up for console browser tests: one Chromium per file; per test a fresh harness
 * served on a loopback port, a fresh browser context (no cookies), and a check that the page
 * logged no errors or CSP violations.
 */
import { expect } from 'chai';
import type { Browser, BrowserContext, Locator, Page } from 'playwright-core';
import { createHarness, type Harness } from '../helpers/harness.js';
import { canRunBrowser, launchChromium, serve, watchConsole, type Served } from './browser.js';

export interface ConsoleFixture {
  h: Harness;
  served: Served;
  context: BrowserContext;
  page: Page;
  /** The admin API with the bearer token (set-up and checks behind the page's back). */
  api(method: 'get' | 'post' | 'patch', path: string, body?: object): ReturnType<Harness['http']['get']>;
  /** Open a console page and wait for its heading. */
  go(hash: string, heading: string | RegExp): Promise<void>;
}

/** `describe` for browser tests: skipped with a clear title where Chromium is missing (never in CI). */
export function describeConsole(title: string, body: (f: ConsoleFixture) => void): void {
  if (!canRunBrowser) {
    // Pending, with the reason in the title; in CI Chromium is installed by .ci/run, so this never happens there.
    describe(`${title} (SKIPPED: /usr/bin/chromium is not installed)`, function () {
      before(function () {
        this.skip();
      });
      body({} as ConsoleFixture);
    });
    return;
  }
  describe(title, function () {
    this.timeout(60_000);
    let browser: Browser;
    let problems: string[] = [];
    const f = {} as ConsoleFixture;
    f.api = (method, path, body) => {
      const req = f.h.http[method](`/api/v1${path}`).set('Authorization', f.h.auth);
      return body ? req.send(body) : req;
    };
    f.go = async (hash, heading) => {
      await f.page.goto(`${f.served.base}/admin/${hash}`);
      await f.page.getByRole('heading', { level: 1, name: heading }).waitFor();
    };

    before(async () => {
      browser = await launchChromium();
    });
    after(async () => {
      await browser?.close();
    });
    beforeEach(async () => {
      f.h = createHarness();
      f.served = await serve(f.h.app);
      f.context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
      f.page = await f.context.newPage();
      f.page.on('dialog', (d) => void d.accept());
      problems = watchConsole(f.page);
    });
    afterEach(async () => {
      await f.context?.close();
      await f.served?.close();
      f.h?.destroy();
      expect(problems, 'page errors or CSP violations').to.deep.equal([]);
    });
    body(f);
  });
}

/** True when this server has the route (another engineer's API may not be merged yet). */
export async function hasRoute(h: Harness, method: 'get' | 'post', path: string): Promise<boolean> {
  const res = await h.http[method](path).set('Authorization', h.auth).send({});
  return !(res.status === 404 && /^no route for /.test(String(res.body?.error?.message)));
}

/** The visible text of the first match, once it is there. */
export async function text(l: Locator): Promise<string> {
  await l.first().waitFor();
  return (await l.first().innerText()).trim();
}
