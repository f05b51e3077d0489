// viem against a running OpenLedger dev node: simulating calls before sending them.
//
//   RPC_URL=http://127.0.0.1:8545 ARTIFACTS=artifacts.json node --test viem.test.mjs
//
// Run by tests/clients/test_viem.py, which starts the node and compiles the contracts.
import { test } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import { createPublicClient, createWalletClient, defineChain, http, parseEventLogs } from "viem";
import { privateKeyToAccount } from "viem/accounts";

const url = process.env.RPC_URL;
const artifacts = JSON.parse(fs.readFileSync(process.env.ARTIFACTS, "utf8"));
const { abi, bytecode } = artifacts.Token;
const chain = defineChain({
  id: 1337,
  name: "OpenLedger dev",
  nativeCurrency: { name: "OPEN", symbol: "OPEN", decimals: 18 },
  rpcUrls: { default: { http: [url] } },
});
const owner = privateKeyToAccount(
  "0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80",
);
const receiver = "0x70997970C51812dc3A010C7d01b50e0d17dc79C8";
const client = createPublicClient({ chain, transport: http(url) });
const wallet = createWalletClient({ account: owner, chain, transport: http(url) });

async function deployToken() {
  const hash = await wallet.deployContract({
    abi,
    bytecode: bytecode.startsWith("0x") ? bytecode : `0x${bytecode}`,
    args: ["Test Token", "TST", 10n ** 24n],
  });
  const receipt = await client.waitForTransactionReceipt({ hash });
  return receipt.contractAddress;
}

test("simulateCalls of an approve then a transferFrom returns both results and logs", async () => {
  const token = await deployToken();
  const head = await client.getBlockNumber();
  const { results } = await client.simulateCalls({
    account: owner.address,
    calls: [
      { to: token, abi, functionName: "approve", args: [owner.address, 100n] },
      { to: token, abi, functionName: "transferFrom", args: [owner.address, receiver, 60n] },
    ],
  });
  assert.equal(results.length, 2);
  const [approved, pulled] = results;
  assert.equal(approved.status, "success");
  assert.equal(pulled.status, "success");
  assert.equal(approved.result, true);
  assert.equal(pulled.result, true);
  const [approval] = parseEventLogs({ abi, logs: approved.logs });
  assert.equal(approval.eventName, "Approval");
  assert.equal(approval.args.value, 100n);
  const [transfer] = parseEventLogs({ abi, logs: pulled.logs });
  assert.equal(transfer.eventName, "Transfer");
  assert.equal(transfer.args.to, receiver);
  assert.equal(transfer.args.value, 60n);
  // Nothing was mined: no block, no balance.
  assert.equal(await client.getBlockNumber(), head);
  const balance = await client.readContract({
    address: token, abi, functionName: "balanceOf", args: [receiver],
  });
  assert.equal(balance, 0n);
});

test("simulateCalls reports a reverting call without failing the others", async () => {
  const token = await deployToken();
  const { results } = await client.simulateCalls({
    account: owner.address,
    calls: [
      { to: token, abi, functionName: "transfer", args: [receiver, 1n] },
      { to: token, abi, functionName: "transferFrom", args: [receiver, owner.address, 5n] },
    ],
  });
  assert.equal(results[0].status, "success");
  assert.equal(results[1].status, "failure");
  assert.ok(results[1].error, "the failure carries its error");
});
