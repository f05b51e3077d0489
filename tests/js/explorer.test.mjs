// The explorer page in headless Chromium (the system's browser, driven by playwright-core) against
// a real dev node after the Datanet story of tests/explorer/story.py.
//
//   RPC_URL=http://127.0.0.1:8545 STORY='{...}' SCREENSHOTS=dir CHROMIUM=/usr/bin/chromium \
//     node --test explorer.test.mjs
//
// Every test fails on a console error or an uncaught exception in the page.
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { close, go, launch, open, rpc, shot, text } from "./browser.mjs";

const RPC_URL = process.env.RPC_URL;
const STORY = JSON.parse(process.env.STORY);

before(launch);
after(close);

test("the Datanet shows its contributions, reviews and version root", async () => {
  const { page, check, close } = await open("#/datanet/1");
  const body = await text(page, "#view");
  assert.match(body, /Datanet 1: Medical QA/);
  assert.ok(body.includes(STORY.versionRoot), "the published root is shown");
  for (const who of [STORY.alice, STORY.bob, STORY.carol]) assert.ok(body.includes(who), `contributor ${who}`);
  assert.match(body, /rejected/);
  assert.ok(body.includes(`${STORY.aliceEarned} wei`), "contribution 1's earnings to the wei");
  await shot(page, "datanet");
  await go(page, "#/datanets");
  assert.match(await text(page, "#view"), /Medical QA/);
  await shot(page, "datanets");
  await go(page, "#/datanet/2");
  assert.ok((await text(page, "h1")).includes(STORY.hostileName), "a hostile name is shown as text");
  assert.equal(await page.locator("#view img, #view script").count(), 0);
  assert.equal(await page.evaluate(() => window.pwned), undefined, "nothing from the chain ran");
  check();
  await close();
});

test("the model shows its citation, fee, inferences and attribution graph", async () => {
  const { page, check, close } = await open("#/model/1");
  const body = await text(page, "#view");
  assert.match(body, /Model 1: med-7b/);
  assert.ok(body.includes(`${STORY.inferences[0].fee} wei`), "the fee to the wei");
  for (const inference of STORY.inferences) assert.ok(body.includes(`inference ${inference.id}`));
  const labels = await page.locator("svg.graph text").allTextContents();
  assert.ok(labels.includes("Datanet 1") && labels.includes("model 1") && labels.includes("inference 2"), labels.join("|"));
  assert.equal(labels.filter((label) => label.startsWith("0x")).length, 2, "two contributors in the graph");
  await shot(page, "model");
  await go(page, "#/agents");
  assert.match(await text(page, "#view"), /agent:\/\/triage/);
  await shot(page, "agents");
  check();
  await close();
});

test("each inference shows its fee split to the wei", async () => {
  const { page, check, close } = await open();
  for (const inference of STORY.inferences) {
    await go(page, `#/inference/${inference.id}`);
    const rows = await page.locator("table.split tbody tr").allInnerTexts();
    const amountOf = (label) => rows.find((row) => row.startsWith(label))?.match(/(\d+) wei/)?.[1];
    assert.equal(amountOf("protocol"), inference.protocol);
    assert.equal(amountOf("model owner"), inference.modelOwner);
    assert.equal(amountOf("agent owner"), inference.agentOwner);
    for (const [id, share] of Object.entries(inference.contributions)) assert.equal(amountOf(`contribution ${id}`), share);
    assert.equal(amountOf("total paid"), inference.fee);
    assert.match(rows.at(-1), /equals the fee/);
    await shot(page, `inference-${inference.id}`);
  }
  check();
  await close();
});

test("a contributor's earnings over time are charted, per Datanet and per model", async () => {
  const { page, check, close } = await open(`#/address/${STORY.alice}`);
  const chart = page.locator("#earnings-chart");
  assert.equal(await chart.getAttribute("data-cumulative-wei"), STORY.aliceCumulative.join(","));
  await page.waitForSelector("#earnings-chart canvas");
  const body = await text(page, "#view");
  assert.ok(body.includes(`${STORY.aliceEarned} wei`));
  assert.match(body, /Per Datanet[\s\S]*Datanet 1/);
  assert.match(body, /Per model[\s\S]*model 1/);
  await shot(page, "contributor");
  check();
  await close();
});

test("a span-evidence record shows the output with each credited span linked to its contribution", async () => {
  const { page, check, close } = await open("#/inference/1");
  const { record, output } = STORY.evidence;
  const show = async (recordText, outputText = output) => {
    await page.fill("#evidence-record", recordText);
    await page.fill("#evidence-output", outputText);
    await page.click("#evidence-show");
    return text(page, "#evidence-result");
  };
  assert.match(await show("{not json"), /not valid JSON/);
  assert.match(await show(JSON.stringify({ ...record, spans: [...record.spans].reverse() })), /out of order/);
  const moved = record.spans.map((entry, i) => (i === 0 ? { ...entry, contributionStart: entry.contributionStart + 1 } : entry));
  assert.match(await show(JSON.stringify({ ...record, spans: moved })), /does not match its evidence root/);
  assert.match(await show(JSON.stringify(record), output.replace("fever", "fevers")), /not the record's output/);
  assert.match(await show(JSON.stringify(record)), /weights on chain are the ones the evidence implies/);
  const marks = page.locator("#evidence-text a.span");
  assert.deepEqual(await marks.allInnerTexts(), ["rest and drink plenty of fluids", " every day until it passes."]);
  assert.deepEqual(await marks.evaluateAll((links) => links.map((a) => a.getAttribute("href"))), ["#/contribution/1", "#/contribution/2"]);
  assert.deepEqual(await page.locator("#evidence-text .boilerplate").allInnerTexts(), ["Always read the label before you take any medicine."]);
  await shot(page, "spans");
  await marks.first().click();
  await page.waitForSelector("#contribution-1");
  await go(page, "#/inference/2"); // another inference's record is refused
  await page.fill("#evidence-record", JSON.stringify(record));
  await page.fill("#evidence-output", output);
  await page.click("#evidence-show");
  assert.match(await text(page, "#evidence-result"), /not this inference's/);
  check();
  await close();
});

test("a new transaction appears on the home page without reloading", async () => {
  const { page, check, close } = await open("");
  await page.waitForSelector("#live:text('live')");
  const before = await page.evaluate(() => performance.getEntriesByType("navigation").length);
  const accounts = await rpc("eth_accounts");
  const hash = await rpc("eth_sendTransaction", [{ from: accounts[7], to: accounts[8], value: "0x1234" }]);
  await page.waitForSelector(`#latest-txs tr[data-hash="${hash}"]`);
  const receipt = await rpc("eth_getTransactionReceipt", [hash]);
  assert.equal(await page.locator("#latest-blocks tr").first().getAttribute("data-hash"), receipt.blockHash, "its block heads the list");
  assert.equal(await page.evaluate(() => performance.getEntriesByType("navigation").length), before);
  await shot(page, "home");
  check();
  await close();
});

test("search finds a block, a transaction and an address", async () => {
  const { page, check, close } = await open("");
  const search = async (query) => {
    await page.evaluate(() => document.getElementById("view").setAttribute("aria-busy", "true"));
    await page.fill("#search input", query);
    await page.press("#search input", "Enter");
    await page.waitForFunction(() => !location.hash.startsWith("#/search/") && document.getElementById("view").getAttribute("aria-busy") === "false");
  };
  await search("3");
  assert.match(await text(page, "h1"), /^Block 3$/);
  await shot(page, "block");
  await search(STORY.inferences[0].transaction);
  assert.match(await text(page, "h1"), /Transaction/);
  const logs = await text(page, "#view");
  assert.match(logs, /IAttribution\.InferenceRecorded/);
  assert.match(logs, /IAttribution\.FeeSplit/);
  assert.match(logs, /IAttribution\.recordInference/);
  await shot(page, "transaction");
  await search(STORY.bob.toLowerCase());
  assert.ok((await text(page, "h1")).includes(STORY.bob));
  await search("0x0000000000000000000000000000000000000a04");
  assert.match(await text(page, "#view"), /precompile\s+OpenLedger IAttribution/);
  check();
  await close();
});

test("bad input gets a clear message, never a blank page", async () => {
  const { page, check, close } = await open("");
  const cases = [
    ["#/search/" + "0x" + "ab".repeat(32), /Nothing found/],
    ["#/search/" + encodeURIComponent("hello <b>world</b>"), /Not a valid search/],
    ["#/search/100%", /Not a valid search/],
    ["#/tx/0x" + "cd".repeat(32), /Unknown transaction/],
    ["#/block/999999", /does not exist yet/],
    ["#/address/0x" + "00".repeat(19) + "77", /No history/],
    ["#/address/0x1234", /Not an address/],
    ["#/datanet/99", /Datanet 99 does not exist/],
    ["#/datanet/abc", /Not a Datanet id/],
    ["#/datanet/" + "9".repeat(78), /Not a Datanet id/],
    ["#/inference/42", /Inference 42 does not exist/],
    ["#/model/7", /Model 7 does not exist/],
    ["#/nowhere", /No such page/],
  ];
  for (const [route, message] of cases) {
    await go(page, route);
    const alert = page.locator("#view [role=alert]");
    assert.match(await alert.innerText(), message, route);
    if (route === "#/datanet/99") await shot(page, "bad-datanet");
    if (route.startsWith("#/search/0x")) await shot(page, "bad-search");
  }
  check();
  await close();
});

test("the validators, their stake and each block's commit signers", async () => {
  const { page, check, close } = await open("#/network");
  const body = await text(page, "#view");
  assert.match(body, /Validators \(the set signing block/);
  assert.match(body, /every committed block is final/);
  const [validator] = (await rpc("ol_getValidators", ["latest"])).validators;
  const stake = await page.locator("section:has(h2:text('Validators')) tbody tr").first().innerText();
  assert.ok(stake.toLowerCase().includes(validator.address.toLowerCase()), stake);
  assert.match(stake, /10000\.0 OPEN[\s\S]*10%[\s\S]*no[\s\S]*yes/, "stake, commission, not jailed, active");
  const commits = await page.locator("section:has(h2:text('Commits')) tbody tr").allInnerTexts();
  assert.ok(commits.length > 0, "commits listed");
  for (const row of commits) assert.ok(row.toLowerCase().includes(validator.address.toLowerCase()), row);
  await shot(page, "network");
  check();
  await close();
});

test("Add to MetaMask asks the wallet to add this chain", async () => {
  const { page, check, close } = await open("", { wallet: true });
  await page.click("#add-wallet");
  await page.waitForSelector("#add-wallet:text('Added to wallet')");
  const calls = await page.evaluate(() => window.walletCalls);
  assert.equal(calls.length, 1);
  assert.equal(calls[0].method, "wallet_addEthereumChain");
  const [chain] = calls[0].params;
  assert.equal(chain.chainId, "0x539");
  assert.equal(chain.nativeCurrency.symbol, "OPEN");
  assert.deepEqual(chain.rpcUrls, [`${RPC_URL}/`]);
  check();
  await close();
  const plain = await open("");
  assert.equal(await plain.page.locator("#add-wallet").count(), 0, "no button without a wallet");
  plain.check();
  await plain.close();
});
