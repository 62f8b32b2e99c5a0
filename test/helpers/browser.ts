/**
 * Real headless Chromium (Debian's `chromium`, installed by .ci/run) driven by playwright-core: one browser per
 * test file, a fresh profile in a temp dir, closed in after() even when a test fails. Screenshots go to the
 * artifacts directory ($PALISADE_TEST_ARTIFACTS, else a temp dir that is kept), named per test.
 */
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';

export const CHROMIUM = '/usr/bin/chromium';
export const skipWithoutChromium: string | false = existsSync(CHROMIUM) ? false : `needs Debian's chromium at ${CHROMIUM} (apt-get install chromium)`;

/** The flags this machine needs: no sandbox as root, and no background connections to a closed network. */
const FLAGS = ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--disable-dev-shm-usage'];

export interface TestBrowser {
  browser: Browser;
  page(): Promise<Page>;
  close(): Promise<void>;
}

export async function launchBrowser(): Promise<TestBrowser> {
  const profile = mkdtempSync(join(tmpdir(), 'palisade-chromium-'));
  const context = await chromium.launchPersistentContext(profile, { executablePath: CHROMIUM, args: FLAGS, headless: true, viewport: { width: 1500, height: 900 } });
  const browser = context.browser() as Browser;
  return {
    browser,
    page: async () => {
      const page = await context.newPage();
      page.setDefaultTimeout(60_000);
      return page;
    },
    close: async () => {
      await context.close().catch(() => undefined);
      rmSync(profile, { recursive: true, force: true });
    },
  };
}

let artifacts: string | null = null;

/** Where screenshots go: $PALISADE_TEST_ARTIFACTS, else one temp dir per run (printed, kept). */
export function artifactsDir(): string {
  if (artifacts === null) {
    artifacts = process.env.PALISADE_TEST_ARTIFACTS ?? mkdtempSync(join(tmpdir(), 'palisade-artifacts-'));
    mkdirSync(artifacts, { recursive: true });
  }
  return artifacts;
}

export async function screenshot(page: Page, name: string): Promise<string> {
  const path = join(artifactsDir(), `${name}.png`);
  await page.screenshot({ path, timeout: 60_000 });
  return path;
}
