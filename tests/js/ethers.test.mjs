// ethers v6 against a running OpenLedger dev node: what a JavaScript developer does on day one.
//
//   RPC_URL=http://127.0.0.1:8545 node --test ethers.test.mjs
//
// Run by tests/clients/test_ethers.py, which starts the node and compiles the contracts.
import { test } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import { ethers } from "ethers";

const url = process.env.RPC_URL;
const artifacts = JSON.parse(fs.readFileSync(process.env.ARTIFACTS, "utf8"));
const KEYS = [
  "0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80",
  "0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d",
  "0x5de4111afa1a4b94908f83103eb1f1706367c2e68ca870fc3fb9a804cdab365a",
];
const ETHER = 10n ** 18n;

// Batching is on by default in ethers (arrays of requests): keep it on, the node must answer them.
// ethers also answers identical requests from a 250 ms cache; an automining dev chain commits a
// block faster than that, so a second `getTransactionCount("pending")` right after `wait()` would
// come from the cache with the old nonce. `cacheTimeout: -1` turns that client cache off.
const provider = new ethers.JsonRpcProvider(url, undefined, { pollingInterval: 100, cacheTimeout: -1 });
const wallets = KEYS.map((key) => new ethers.Wallet(key, provider));

test("network and prefunded balances", async () => {
  const network = await provider.getNetwork();
  assert.equal(network.chainId, 1337n);
  for (const wallet of wallets) {
    assert.equal(await provider.getBalance(wallet.address), 10_000n * ETHER);
  }
  const block = await provider.getBlock("latest");
  assert.ok(block.baseFeePerGas !== null, "blocks carry baseFeePerGas (EIP-1559)");
});

test("EIP-1559 and legacy transfers", async () => {
  const [alice, bob] = wallets;
  const before = await provider.getBalance(bob.address);
  const dynamic = await alice.sendTransaction({ to: bob.address, value: ETHER });
  assert.equal(dynamic.type, 2);
  const dynamicReceipt = await dynamic.wait();
  assert.equal(dynamicReceipt.status, 1);

  const feeData = await provider.getFeeData();
  const legacy = await alice.sendTransaction({ to: bob.address, value: 2n * ETHER, type: 0, gasPrice: feeData.gasPrice });
  assert.equal(legacy.type, 0);
  const legacyReceipt = await legacy.wait();
  assert.equal(legacyReceipt.status, 1);
  assert.equal(await provider.getBalance(bob.address), before + 3n * ETHER);

  const fetched = await provider.getTransaction(legacy.hash);
  assert.equal(fetched.from, alice.address);
  assert.equal(fetched.blockNumber, legacyReceipt.blockNumber);
});

test("ERC-20: deploy, transfer, Transfer events, revert reason", async () => {
  const [deployer, , carol] = wallets;
  const { abi, bytecode } = artifacts.Token;
  const factory = new ethers.ContractFactory(abi, bytecode, deployer);
  const token = await factory.deploy("Open Test", "OTT", 1_000_000n * ETHER);
  await token.waitForDeployment();
  assert.equal(await token.symbol(), "OTT");

  const tx = await token.transfer(carol.address, 250n * ETHER);
  const receipt = await tx.wait();
  assert.equal(receipt.status, 1);
  assert.equal(await token.balanceOf(carol.address), 250n * ETHER);

  const events = await token.queryFilter(token.filters.Transfer(), 0, "latest");
  assert.deepEqual(
    events.map((e) => [e.args.from, e.args.to, e.args.value]),
    [
      [ethers.ZeroAddress, deployer.address, 1_000_000n * ETHER],
      [deployer.address, carol.address, 250n * ETHER],
    ],
  );
  const toCarol = await token.queryFilter(token.filters.Transfer(null, carol.address));
  assert.equal(toCarol.length, 1);
  assert.equal(toCarol[0].transactionHash, receipt.hash);

  // A failing call: ethers decodes the revert reason from the error's data.
  await assert.rejects(
    token.connect(carol).transfer(deployer.address, 10_000n * ETHER),
    (error) => {
      assert.equal(error.code, "CALL_EXCEPTION");
      assert.equal(error.reason, "Token: transfer amount exceeds balance");
      return true;
    },
  );
  await assert.rejects(token.connect(carol).restricted(), (error) => {
    assert.equal(error.code, "CALL_EXCEPTION");
    assert.equal(error.revert?.name, "Unauthorized");
    return true;
  });
});

test("contract events arrive through filters (eth_newFilter)", async () => {
  const [deployer, bob] = wallets;
  const { abi, bytecode } = artifacts.Token;
  const token = await new ethers.ContractFactory(abi, bytecode, deployer).deploy("Evented", "EVT", 1000n);
  await token.waitForDeployment();
  const seen = new Promise((resolve) => token.once("Transfer", (from, to, value) => resolve([from, to, value])));
  await new Promise((resolve) => setTimeout(resolve, 300)); // let the filter install
  await (await token.transfer(bob.address, 7n)).wait();
  let timer;
  const timeout = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error("no Transfer event within 15 s")), 15000);
  });
  const [from, to, value] = await Promise.race([seen, timeout]).finally(() => clearTimeout(timer));
  assert.deepEqual([from, to, value], [deployer.address, bob.address, 7n]);
  await token.removeAllListeners();
});

test("nonce errors are typed", async () => {
  const [alice, bob] = wallets;
  const nonce = await provider.getTransactionCount(alice.address, "latest");
  await assert.rejects(
    alice.sendTransaction({ to: bob.address, value: 1n, nonce: nonce - 1 }),
    (error) => error.code === "NONCE_EXPIRED",
  );
});

test.after(() => provider.destroy());
