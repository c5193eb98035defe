// A report opened the way a person opens it: from disk, in a real headless
// Chromium (Debian's, driven by playwright-core), with every console error,
// page error and network request recorded so a test can require none.
import { existsSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { chromium, type Browser, type Page } from 'playwright-core';

export const CHROMIUM = '/usr/bin/chromium';

/** Where tests save screenshots of reports; CI keeps this folder as artifacts. */
export const REPORT_ARTIFACTS = path.resolve(path.dirname(new URL(import.meta.url).pathname), '../../artifacts/report');

export function chromiumBlocker(): string | undefined {
  return existsSync(CHROMIUM) ? undefined : `needs Debian's chromium at ${CHROMIUM} (bash hack/setup.sh installs it)`;
}

/** The count a chart element's title ends with ("…\ncount 1,234"), as a number. */
export function countInTitle(title: string): number {
  return Number(/count ([0-9,]+)/.exec(title)?.[1]?.replaceAll(',', '') ?? NaN);
}

export interface OpenedReport {
  page: Page;
  /** Console errors and uncaught exceptions. */
  errors: string[];
  /** Every request but the report file itself. */
  requests: string[];
  screenshot(name: string): Promise<string>;
  close(): Promise<void>;
}

export async function openReport(file: string): Promise<OpenedReport> {
  // The flags keep Chromium off the network on its own account (updates, sync, first-run pings).
  const browser: Browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
  const page = await browser.newPage({ viewport: { width: 1200, height: 900 } });
  const errors: string[] = [];
  const requests: string[] = [];
  const url = pathToFileURL(file).href;
  page.on('console', (m) => {
    if (m.type() === 'error') errors.push(m.text());
  });
  page.on('pageerror', (e) => errors.push(e.message));
  page.on('request', (r) => {
    if (r.url() !== url) requests.push(r.url());
  });
  await page.goto(url, { waitUntil: 'load' });
  // The flame graph widens its frames in a transition; let it settle.
  await page.waitForTimeout(1000);
  return {
    page,
    errors,
    requests,
    async screenshot(name) {
      mkdirSync(REPORT_ARTIFACTS, { recursive: true });
      const out = path.join(REPORT_ARTIFACTS, name);
      await page.screenshot({ path: out, fullPage: true });
      return out;
    },
    close: () => browser.close(),
  };
}
