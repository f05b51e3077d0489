// Chain views: the live home page, a block, a transaction with its receipt and decoded logs, an
// address, search, and the validator set with each block's commit signers.
import { decodeInput, decodeLog, ethers, interfaceAt } from "./abi.js";
import { call, callMany, hex } from "./rpc.js";
import {
  addressLink, blockLink, facts, h, NotFound, problem, section, short, table, time, txLink, wei, link,
} from "./ui.js";
import { argumentLinks } from "./attribution.js";

const RECENT = 10; // blocks on the home page
const ADDRESS_SCAN = 2000; // blocks scanned for an address's transactions

// --- home ---------------------------------------------------------------------------------------

export async function home() {
  const head = parseInt(await call("eth_blockNumber"), 16);
  const numbers = [];
  for (let n = head; n >= 0 && numbers.length < RECENT; n--) numbers.push(n);
  const blocks = (await callMany(numbers.map((n) => ["eth_getBlockByNumber", [hex(n), true]]))).filter(
    (block) => block && !(block instanceof Error));
  const blockRows = h("tbody", { id: "latest-blocks" });
  const txRows = h("tbody", { id: "latest-txs" });
  blocks.forEach((block) => blockRows.append(blockRow(block)));
  blocks.flatMap((block) => block.transactions).slice(0, 20).forEach((tx) => txRows.append(txRow(tx)));
  const page = h("div", {},
    section("Latest blocks", h("table", { class: "list" },
      h("thead", {}, h("tr", {}, ["block", "hash", "time", "transactions", "gas used"].map((t) => h("th", {}, t)))),
      blockRows)),
    section("Latest transactions", h("table", { class: "list" },
      h("thead", {}, h("tr", {}, ["hash", "block", "from", "to", "value"].map((t) => h("th", {}, t)))),
      txRows), h("p", { class: "muted", id: "no-txs", hidden: txRows.children.length > 0 }, "No transactions yet.")));
  page.onHead = async (header) => {
    const block = await call("eth_getBlockByHash", [header.hash, true]);
    if (!block || blockRows.querySelector(`[data-hash="${block.hash}"]`)) return;
    blockRows.prepend(blockRow(block));
    while (blockRows.children.length > RECENT) blockRows.lastChild.remove();
    for (const tx of [...block.transactions].reverse()) txRows.prepend(txRow(tx));
    while (txRows.children.length > 20) txRows.lastChild.remove();
    page.querySelector("#no-txs").hidden = txRows.children.length > 0;
  };
  return page;
}

function blockRow(block) {
  return h("tr", { "data-hash": block.hash }, h("td", {}, blockLink(block.number)), h("td", {}, link(`#/block/${block.hash}`, h("code", {}, short(block.hash)))),
    h("td", {}, time(block.timestamp)), h("td", {}, String(block.transactions.length)), h("td", {}, String(BigInt(block.gasUsed))));
}

function txRow(tx) {
  return h("tr", { "data-hash": tx.hash }, h("td", {}, txLink(tx.hash)), h("td", {}, blockLink(tx.blockNumber)),
    h("td", {}, addressLink(tx.from)), h("td", {}, tx.to ? addressLink(tx.to) : "contract creation"), h("td", {}, wei(tx.value)));
}

// --- block --------------------------------------------------------------------------------------

export async function block(id) {
  const byHash = /^0x[0-9a-fA-F]{64}$/.test(id);
  if (!byHash && !/^\d+$/.test(id)) return problem("Not a block number or hash", `“${id}” is neither a decimal block number nor a 32-byte hash.`);
  const found = byHash ? await call("eth_getBlockByHash", [id, true]) : await call("eth_getBlockByNumber", [hex(id), true]);
  if (!found) {
    const head = parseInt(await call("eth_blockNumber"), 16);
    return problem("No such block", byHash ? `No block has hash ${id}.` : `Block ${id} does not exist yet: the head is block ${head}.`);
  }
  const number = parseInt(found.number, 16);
  const commit = number > 0 ? await call("ol_getCommit", [found.number]) : null;
  return h("div", {},
    h("h1", {}, `Block ${number}`),
    facts([
      ["hash", h("code", {}, found.hash)],
      ["parent", number > 0 ? link(`#/block/${found.parentHash}`, h("code", {}, found.parentHash)) : h("code", {}, found.parentHash)],
      ["time", time(found.timestamp)],
      ["proposer", addressLink(found.miner)],
      ["gas used / limit", `${BigInt(found.gasUsed)} / ${BigInt(found.gasLimit)}`],
      ["base fee", found.baseFeePerGas ? wei(found.baseFeePerGas) : "—"],
      ["state root", h("code", {}, found.stateRoot)],
      ["commit", commit ? `round ${BigInt(commit.round)}, ${commit.precommits.length} precommits` : "genesis has no commit"],
    ]),
    commit ? section("Signers of its commit", table(["validator", "signature"],
      commit.precommits.map((p) => [addressLink(p.validator), h("code", {}, short(p.signature))]))) : null,
    section(`Transactions (${found.transactions.length})`, table(["hash", "from", "to", "value"],
      found.transactions.map((tx) => [txLink(tx.hash), addressLink(tx.from), tx.to ? addressLink(tx.to) : "contract creation", wei(tx.value)]),
      "This block holds no transactions.")));
}

// --- transaction --------------------------------------------------------------------------------

export async function transaction(hash) {
  if (!/^0x[0-9a-fA-F]{64}$/.test(hash)) return problem("Not a transaction hash", `“${hash}” is not a 32-byte hex hash.`);
  const [tx, receipt] = await callMany([["eth_getTransactionByHash", [hash]], ["eth_getTransactionReceipt", [hash]]]);
  for (const answer of [tx, receipt]) if (answer instanceof Error) throw answer;
  if (!tx) return problem("Unknown transaction", `The node knows no transaction with hash ${hash}.`);
  const input = decodeInput(tx.to, tx.input);
  return h("div", {},
    h("h1", {}, "Transaction"),
    facts([
      ["hash", h("code", {}, tx.hash)],
      ["status", !receipt ? "pending" : receipt.status === "0x1" ? h("span", { class: "ok" }, "success") : h("span", { class: "bad" }, "reverted")],
      ["block", tx.blockNumber ? blockLink(tx.blockNumber) : "pending"],
      ["from", addressLink(tx.from)],
      ["to", tx.to ? addressLink(tx.to) : "contract creation"],
      receipt && receipt.contractAddress ? ["created", addressLink(receipt.contractAddress)] : null,
      ["value", wei(tx.value)],
      ["nonce", String(BigInt(tx.nonce))],
      ["gas used / limit", `${receipt ? BigInt(receipt.gasUsed) : "?"} / ${BigInt(tx.gas)}`],
      receipt ? ["effective gas price", wei(receipt.effectiveGasPrice)] : null,
      ["type", String(BigInt(tx.type))],
    ]),
    section("Input", input ? decodedCall(input) : h("code", { class: "data" }, tx.input === "0x" ? "none" : tx.input)),
    receipt ? section(`Logs (${receipt.logs.length})`, receipt.logs.length ? h("div", {}, receipt.logs.map(logView)) : h("p", { class: "muted" }, "No logs.")) : null);
}

function decodedCall(decoded) {
  return h("div", { class: "decoded" }, h("p", {}, h("code", {}, `${decoded.interface}.${decoded.fragment.format("sighash")}`)),
    argumentsTable(decoded.fragment.inputs, decoded.args));
}

export function logView(log) {
  const decoded = decodeLog(log);
  const title = decoded ? `${decoded.interface}.${decoded.name}` : "undecoded log";
  return h("div", { class: "log" }, h("p", {}, h("strong", {}, title), " from ", addressLink(log.address)),
    decoded ? argumentsTable(decoded.fragment.inputs, decoded.args, decoded.name)
      : facts([["topics", h("div", {}, log.topics.map((t) => h("div", {}, h("code", {}, t))))], ["data", h("code", { class: "data" }, log.data)]]));
}

function argumentsTable(inputs, args, event) {
  return table(["name", "type", "value"], inputs.map((input, i) => [input.name, input.type, argument(input, args[i], event)]));
}

function argument(input, value, event) {
  if (Array.isArray(value) || (value && typeof value.toArray === "function")) {
    return h("span", {}, "[", [...value].map((item, i) => [i ? ", " : "", String(item)]), "]");
  }
  if (input.type === "address") return addressLink(value);
  const linked = argumentLinks(input.name, value, event);
  return linked ?? (typeof value === "bigint" ? value.toString() : String(value));
}

// --- address ------------------------------------------------------------------------------------

export async function address(text) {
  if (!/^0x[0-9a-fA-F]{40}$/.test(text)) return problem("Not an address", `“${text}” is not a 20-byte hex address.`);
  const account = ethers.getAddress(text.toLowerCase());
  const [balance, nonce, code, headHex] = await callMany([
    ["eth_getBalance", [account, "latest"]], ["eth_getTransactionCount", [account, "latest"]],
    ["eth_getCode", [account, "latest"]], ["eth_blockNumber", []]]);
  for (const answer of [balance, nonce, code, headHex]) if (answer instanceof Error) throw answer;
  const head = parseInt(headHex, 16);
  const first = Math.max(0, head - ADDRESS_SCAN + 1);
  const numbers = [];
  for (let n = head; n >= first; n--) numbers.push(n);
  const blocks = await callMany(numbers.map((n) => ["eth_getBlockByNumber", [hex(n), true]]));
  const lower = account.toLowerCase();
  const txs = blocks.filter((b) => b && !(b instanceof Error)).flatMap((b) => b.transactions)
    .filter((tx) => tx.from.toLowerCase() === lower || (tx.to || "").toLowerCase() === lower);
  const empty = BigInt(balance) === 0n && BigInt(nonce) === 0n && code === "0x" && txs.length === 0;
  const { contributorPanel } = await import("./earnings.js");
  return h("div", {},
    h("h1", {}, "Address ", h("code", {}, account)),
    empty ? problem("No history", `${account} has no balance, no nonce, no code and no transactions in the last ${numbers.length} blocks.`) : null,
    facts([
      ["balance", wei(balance)],
      ["nonce", String(BigInt(nonce))],
      interfaceAt(account) ? ["precompile", `OpenLedger ${interfaceAt(account)} (its calls and logs are decoded on transaction pages)`] : null,
      ["code", code === "0x" ? "none (an externally owned account)" : h("code", { class: "data" }, `${(code.length - 2) / 2} bytes: ${code.slice(0, 130)}${code.length > 130 ? "…" : ""}`)],
    ]),
    section(`Transactions in blocks ${first}–${head} (${txs.length})`, table(["hash", "block", "from", "to", "value"],
      txs.map((tx) => [txLink(tx.hash), blockLink(tx.blockNumber), addressLink(tx.from), tx.to ? addressLink(tx.to) : "contract creation", wei(tx.value)]),
      "No transactions from or to this address in these blocks.")),
    await contributorPanel(account));
}

// --- search -------------------------------------------------------------------------------------

/** Where a search string leads: a route, or a message saying why it leads nowhere. */
export async function search(query) {
  const text = query.trim();
  if (/^\d+$/.test(text)) return { route: `#/block/${text}` };
  if (/^0x[0-9a-fA-F]{40}$/.test(text)) return { route: `#/address/${text}` };
  if (/^0x[0-9a-fA-F]{64}$/.test(text)) {
    const [tx, blk] = await callMany([["eth_getTransactionByHash", [text]], ["eth_getBlockByHash", [text, false]]]);
    if (tx && !(tx instanceof Error)) return { route: `#/tx/${text}` };
    if (blk && !(blk instanceof Error)) return { route: `#/block/${text}` };
    return { message: ["Nothing found", `No transaction or block has hash ${text}.`] };
  }
  const datanet = /^datanet\s*(\d+)$/i.exec(text);
  if (datanet) return { route: `#/datanet/${datanet[1]}` };
  return { message: ["Not a valid search", `“${text}” is not a block number, a 32-byte hash (0x + 64 hex digits), an address (0x + 40 hex digits) or “datanet N”.`] };
}
