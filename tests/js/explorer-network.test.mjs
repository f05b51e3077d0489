// The explorer's network view on the RPC node of a real four-validator devnet: every validator
// with its stake, commission, jailed and active state, and the signers of each block's commit.
//
//   RPC_URL=... VALIDATORS='["0x…", …]' SCREENSHOTS=dir CHROMIUM=/usr/bin/chromium \
//     node --test explorer-network.test.mjs
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { close, go, launch, open, rpc, shot, text } from "./browser.mjs";

const VALIDATORS = JSON.parse(process.env.VALIDATORS).map((address) => address.toLowerCase());

before(launch);
after(close);

test("the network view lists every validator and each block's commit signers", async () => {
  const { page, check, close: done } = await open("#/network");
  const rows = await page.locator("section:has(h2:text('Validators')) tbody tr").allInnerTexts();
  assert.equal(rows.length, VALIDATORS.length, rows.join("\n"));
  for (const validator of VALIDATORS) {
    const row = rows.find((r) => r.toLowerCase().includes(validator));
    assert.ok(row, `validator ${validator} listed`);
    assert.match(row, /\d+ wei[\s\S]*%\s+no\s+yes/, `stake, commission, not jailed, active: ${row}`);
  }
  const commits = await page.locator("section:has(h2:text('Commits')) tbody tr").allInnerTexts();
  assert.ok(commits.length >= 2, "commits listed");
  for (const row of commits) {
    const signers = VALIDATORS.filter((v) => row.toLowerCase().includes(v));
    assert.ok(signers.length >= 3, `a commit holds at least 2/3 of four validators: ${row}`);
  }
  // The page read `finalized` and `latest` in one batch: on this chain they are the same block.
  assert.match(await text(page, "table.facts"), /finalized\s+#\d+ \(every committed block is final\)/);
  await shot(page, "devnet-network");
  // The devnet keeps producing blocks: the view follows them without a reload.
  const shown = async () => BigInt((await text(page, "table.facts tr:first-child td")).replace("#", ""));
  const first = await shown();
  await page.waitForFunction((n) => BigInt(document.querySelector("table.facts tr:first-child td").innerText.replace("#", "")) > n, first);
  const head = BigInt(await rpc("eth_blockNumber"));
  await go(page, `#/block/${head}`);
  const signers = await page.locator("section:has(h2:text('Signers')) tbody tr").count();
  assert.ok(signers >= 3, `block ${head} shows its commit's signers`);
  await shot(page, "devnet-block");
  check();
  await done();
});
