// A real headless Chromium for the interop tests that drive the server's
// pages as a person would (approvals, OAuth sign-in): puppeteer-core and
// the system's browser ($CHROMIUM_PATH, default /usr/bin/chromium, which
// .ci/run installs), with a throwaway profile.
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

import puppeteer from 'puppeteer-core';

export const CHROMIUM = process.env.CHROMIUM_PATH || '/usr/bin/chromium';

/**
 * Launches headless Chromium with a profile in a new temporary directory.
 * Returns {browser, freshPage(), close()}: freshPage() opens a page in its
 * own browser context (a fresh profile's worth of state: its own cookies)
 * and resolves to {page, close()}; close() ends the browser and removes
 * the profile.
 */
export async function launchBrowser() {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'convirza-mcp-chromium-'));
  let browser;
  try {
    browser = await puppeteer.launch({
      executablePath: CHROMIUM,
      headless: true,
      userDataDir: dir,
      args: [
        '--headless',
        '--no-sandbox',
        '--disable-gpu',
        '--disable-quic',
        '--no-first-run',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
      ],
    });
  } catch (err) {
    rmSync(dir, { recursive: true, force: true });
    throw err;
  }
  return {
    browser,
    async freshPage() {
      const ctx = await browser.createBrowserContext();
      const page = await ctx.newPage();
      page.setDefaultTimeout(10_000);
      page.setDefaultNavigationTimeout(10_000);
      return { page, close: () => ctx.close() };
    },
    async close() {
      await browser.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
