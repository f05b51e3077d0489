// Headless Chromium for the explorer's tests: the system's browser (CHROMIUM) driven by
// playwright-core, pages that record console errors, screenshots into SCREENSHOTS, and JSON-RPC
// to the node under test (RPC_URL).
import assert from "node:assert/strict";
import path from "node:path";
import { chromium } from "playwright-core";

const RPC_URL = process.env.RPC_URL;
const SHOTS = process.env.SCREENSHOTS;
const PAGE = `${RPC_URL}/explorer/`;
const TIMEOUT = 20000;

let browser;

export async function launch() {
  browser = await chromium.launch({
    executablePath: process.env.CHROMIUM,
    args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
      "--disable-component-update", "--disable-sync"],
  });
}

export async function close() {
  await browser?.close();
}

/** A fresh page at `route` that records console errors; `check()` fails the test if any
 * appeared. With `wallet`, a stand-in for MetaMask's injected provider records its calls. */
export async function open(route = "", { wallet = false } = {}) {
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  const page = await context.newPage();
  page.setDefaultTimeout(TIMEOUT);
  const problems = [];
  page.on("console", (message) => {
    if (message.type() === "error") problems.push(`console: ${message.text()} at ${message.location().url}`);
  });
  page.on("pageerror", (error) => problems.push(`page error: ${error.message}`));
  if (wallet) {
    await page.addInitScript(() => {
      window.walletCalls = [];
      window.ethereum = { isMetaMask: true, request: async (call) => { window.walletCalls.push(call); return null; } };
    });
  }
  await page.goto(PAGE + route);
  await page.waitForSelector("#view[aria-busy=false]");
  const check = () => assert.deepEqual(problems, [], "the page logged errors");
  return { page, check, close: () => context.close() };
}

/** Navigate within the page (no reload) and wait for the view to render. */
export async function go(page, route) {
  await page.evaluate((hash) => {
    document.getElementById("view").setAttribute("aria-busy", "true");
    window.location.hash = hash;
  }, route);
  await page.waitForSelector("#view[aria-busy=false]");
}

export async function shot(page, name) {
  await page.screenshot({ path: path.join(SHOTS, `${name}.png`), fullPage: true });
}

export const text = (page, selector) => page.locator(selector).innerText();

export async function rpc(method, params = []) {
  const response = await fetch(RPC_URL, {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify({ jsonrpc: "2.0", id: 1, method, params }),
  });
  const answer = await response.json();
  if (answer.error) throw new Error(`${method}: ${answer.error.message}`);
  return answer.result;
}
