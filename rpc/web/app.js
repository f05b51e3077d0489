// The explorer's entry: the header (search, live head, "Add to MetaMask"), the hash router and
// the error boundary that turns every failure into a message on the page.
import { loadInterfaces } from "./abi.js";
import * as chain from "./chain.js";
import * as attribution from "./attribution.js";
import { network } from "./network.js";
import { call, RpcError, subscribeHeads } from "./rpc.js";
import { h, problem } from "./ui.js";

const ROUTES = [
  [/^$/, () => chain.home()],
  [/^block\/(.+)$/, (m) => chain.block(m[1])],
  [/^tx\/(.+)$/, (m) => chain.transaction(m[1])],
  [/^address\/(.+)$/, (m) => chain.address(m[1])],
  [/^network$/, () => network()],
  [/^datanets$/, () => attribution.datanets()],
  [/^datanet\/(.+)$/, (m) => attribution.datanet(m[1])],
  [/^contribution\/(.+)$/, (m) => attribution.contribution(m[1])],
  [/^models$/, () => attribution.models()],
  [/^model\/(.+)$/, (m) => attribution.model(m[1])],
  [/^agents$/, () => attribution.agents()],
  [/^inference\/(.+)$/, (m) => attribution.inference(m[1])],
  [/^search\/(.*)$/, (m) => searchView(m[1])],
];

const main = document.getElementById("view");
let current = null;
let generation = 0;

async function route() {
  const path = window.location.hash.replace(/^#\/?/, "");
  const mine = ++generation;
  main.setAttribute("aria-busy", "true");
  let content;
  try {
    const match = ROUTES.map(([pattern, view]) => [pattern.exec(path), view]).find(([m]) => m);
    content = match ? await match[1](match[0]) : problem("No such page", `There is no view at “#/${path}”.`);
  } catch (error) {
    // A JSON-RPC error or a failed fetch is the node's; anything else is this page's own fault.
    const fromNode = error instanceof RpcError || error instanceof TypeError && /fetch/i.test(error.message);
    content = problem(fromNode ? "The node could not answer" : "This view could not be shown", error.message);
  }
  if (mine !== generation || content === null) return; // a later navigation won
  current = content;
  main.replaceChildren(content);
  main.setAttribute("aria-busy", "false");
}

async function searchView(encoded) {
  let query;
  try {
    query = decodeURIComponent(encoded);
  } catch {
    return problem("Not a valid search", "The search string is not valid URL encoding.");
  }
  const found = await chain.search(query);
  if (found.route) {
    window.location.replace(found.route); // its hashchange renders the result
    return null;
  }
  return problem(...found.message);
}

function onHead(header) {
  document.getElementById("head").textContent = `head #${BigInt(header.number)}`;
  if (current && typeof current.onHead === "function") {
    current.onHead(header).catch((error) => {
      document.getElementById("live").textContent = `live update failed: ${error.message}`;
    });
  }
}

async function addToWallet(button) {
  const chainId = await call("eth_chainId");
  const parameters = {
    chainId,
    chainName: BigInt(chainId) === 1337n ? "OpenLedger dev" : `OpenLedger (chain ${BigInt(chainId)})`,
    nativeCurrency: { name: "OPEN", symbol: "OPEN", decimals: 18 },
    rpcUrls: [window.location.origin + "/"],
    blockExplorerUrls: [window.location.origin + "/explorer/"],
  };
  try {
    await window.ethereum.request({ method: "wallet_addEthereumChain", params: [parameters] });
    button.textContent = "Added to wallet";
  } catch (error) {
    button.textContent = `Wallet refused: ${error.message}`;
  }
}

async function start() {
  const form = document.getElementById("search");
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const query = form.elements.q.value;
    window.location.hash = `#/search/${encodeURIComponent(query.trim())}`;
  });
  if (window.ethereum) {
    const button = h("button", { id: "add-wallet", type: "button" }, "Add to MetaMask");
    button.addEventListener("click", () => addToWallet(button));
    document.getElementById("wallet").append(button);
  }
  try {
    await loadInterfaces();
    const head = await call("eth_blockNumber");
    document.getElementById("head").textContent = `head #${BigInt(head)}`;
  } catch (error) {
    main.replaceChildren(problem("The node could not answer", error.message));
    return;
  }
  subscribeHeads(onHead, (state) => {
    document.getElementById("live").textContent = state === "live" ? "● live" : "○ reconnecting";
  });
  window.addEventListener("hashchange", route);
  await route();
}

start();
