'use strict';
// Runs one test script against headless Chromium through playwright-core (tests/toolchain.py,
// Browser.run). Usage: node browser_harness.cjs CONFIG.json, where the config names the Chromium
// binary, its flags, a fresh user-data-dir, the script (a CommonJS module exporting
// `async ({page, context, args}) => result`), its args and the output file. The output file gets
// {ok, result | error, consoleErrors, pageErrors, blocked, browserVersion} as JSON.
const fs = require('node:fs');
const { chromium } = require('playwright-core');

const config = JSON.parse(fs.readFileSync(process.argv[2], 'utf8'));
const LOOPBACK = /^(localhost|127\.\d+\.\d+\.\d+|\[::1\])$/;

function isLocal(address) {
  const url = new URL(address);
  if (['file:', 'data:', 'blob:', 'about:'].includes(url.protocol)) return true;
  return LOOPBACK.test(url.hostname);
}

async function main() {
  const report = { ok: false, consoleErrors: [], pageErrors: [], blocked: [], browserVersion: '' };
  let context;
  try {
    context = await chromium.launchPersistentContext(config.userDataDir, {
      executablePath: config.chromium,
      headless: true,
      args: config.flags,
      timeout: config.timeoutMs,
    });
    context.setDefaultTimeout(config.timeoutMs);
    report.browserVersion = context.browser() ? context.browser().version() : '';
    await context.route('**/*', (route) => {
      const address = route.request().url();
      if (isLocal(address)) return route.continue();
      report.blocked.push(address);
      return route.abort('blockedbyclient');
    });
    const page = context.pages()[0] || (await context.newPage());
    page.on('console', (message) => {
      if (message.type() === 'error') report.consoleErrors.push(message.text());
    });
    page.on('pageerror', (error) => report.pageErrors.push(String(error && error.stack ? error.stack : error)));
    const script = require(config.script);
    report.result = await script({ page, context, args: config.args });
    report.ok = true;
  } catch (error) {
    report.error = String(error && error.stack ? error.stack : error);
  } finally {
    if (context) await context.close().catch(() => {});
  }
  fs.writeFileSync(config.output, JSON.stringify(report));
  process.exitCode = report.ok ? 0 : 1;
}

main();
