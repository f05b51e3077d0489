// ethers v6 against a dev node: OpenLedger's attribution precompiles through the shipped ABI.
//
//   RPC_URL=http://127.0.0.1:8545 ABIS=abis.json node --test attribution.test.mjs
//
// Run by tests/attribution/test_attribution_clients.py, which starts the node and compiles the
// interfaces in attribution/solidity/ with solc-js (ABIS maps each interface to its ABI). The
// Merkle tree and the fee split are written out again here from the README, so the node's
// numbers are checked against an independent implementation.
import { test } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import { ethers } from "ethers";

const provider = new ethers.JsonRpcProvider(process.env.RPC_URL, undefined, {
  pollingInterval: 100,
  cacheTimeout: -1,
});
const abis = JSON.parse(fs.readFileSync(process.env.ABIS, "utf8"));
const MNEMONIC = "test test test test test test test test test test test junk";
const wallet = (path) => ethers.HDNodeWallet.fromPhrase(MNEMONIC, undefined, path).connect(provider);
const [owner, alice, bob, carol, modelOwner, operator, agentOwner] = [0, 1, 2, 3, 4, 5, 6].map(
  (index) => wallet(`m/44'/60'/0'/0/${index}`),
);
const validator = wallet("m/44'/60'/1'/0/0"); // the dev genesis' protocol account
const ETHER = 10n ** 18n;

const datanets = new ethers.Contract("0x0000000000000000000000000000000000000a01", abis.IDatanets, owner);
const models = new ethers.Contract("0x0000000000000000000000000000000000000a02", abis.IModels, owner);
const agents = new ethers.Contract("0x0000000000000000000000000000000000000a03", abis.IAgents, owner);
const attribution = new ethers.Contract("0x0000000000000000000000000000000000000a04", abis.IAttribution, owner);

async function send(contract, signer, method, args, value = 0n) {
  const tx = await contract.connect(signer)[method](...args, { value });
  const receipt = await tx.wait();
  assert.equal(receipt.status, 1, `${method} failed`);
  return receipt;
}

function events(contract, receipt, name) {
  return receipt.logs
    .filter((log) => log.address.toLowerCase() === contract.target.toLowerCase())
    .map((log) => contract.interface.parseLog(log))
    .filter((parsed) => parsed && parsed.name === name)
    .map((parsed) => parsed.args);
}

// --- the documented Merkle tree -----------------------------------------------------------------
const coder = ethers.AbiCoder.defaultAbiCoder();
const leafOf = (contentHash) => ethers.keccak256(ethers.keccak256(coder.encode(["bytes32"], [contentHash])));
const pair = (a, b) => (BigInt(a) < BigInt(b) ? ethers.keccak256(ethers.concat([a, b])) : ethers.keccak256(ethers.concat([b, a])));
const zeros = [ethers.ZeroHash];
for (let level = 0; level < 32; level++) zeros.push(pair(zeros[level], zeros[level]));

function levels(leaves) {
  const all = [leaves];
  for (let level = 0; level < 32; level++) {
    const nodes = all[level].length % 2 ? [...all[level], zeros[level]] : all[level];
    const parents = [];
    for (let i = 0; i < nodes.length; i += 2) parents.push(pair(nodes[i], nodes[i + 1]));
    all.push(parents.length ? parents : [zeros[level + 1]]);
  }
  return all;
}
const rootOf = (leaves) => levels(leaves)[32][0];
function proofOf(leaves, index) {
  return levels(leaves)
    .slice(0, 32)
    .map((nodes, level) => {
      const sibling = (index >> level) ^ 1;
      return sibling < nodes.length ? nodes[sibling] : zeros[level];
    });
}

// --- the documented split (dev genesis: 10% protocol, 30% model owner, 10% agent owner) ---------
function split(fee, weights, hasAgent) {
  const protocol = (fee * 1000n) / 10000n;
  const modelOwner = (fee * 3000n) / 10000n;
  const agentOwner = hasAgent ? (fee * 1000n) / 10000n : 0n;
  const pool = fee - protocol - modelOwner - agentOwner;
  const total = weights.reduce((a, b) => a + b, 0n);
  const parts = weights.map((weight) => (pool * weight) / total);
  let heaviest = 0;
  weights.forEach((weight, index) => {
    if (weight > weights[heaviest]) heaviest = index;
  });
  parts[heaviest] += pool - parts.reduce((a, b) => a + b, 0n);
  return { protocol, modelOwner, agentOwner, pool, parts };
}

test("a Datanet, a version, a model, an agent, two inferences and claims, to the wei", async () => {
  // A Datanet with three contributions: two accepted, one rejected, then a version.
  const created = await send(datanets, owner, "createDatanet", ["Medical QA", "ipfs://meta", 0, true]);
  const [{ datanetId }] = events(datanets, created, "DatanetCreated");
  assert.equal(datanetId, 1n);
  const hashes = ["alice", "bob", "carol"].map((name) => ethers.id(`a document by ${name}`));
  for (const [contributor, contentHash] of [[alice, hashes[0]], [bob, hashes[1]], [carol, hashes[2]]]) {
    const receipt = await send(datanets, contributor, "contribute", [datanetId, contentHash, "ipfs://doc", 4096]);
    const [submitted] = events(datanets, receipt, "ContributionSubmitted");
    assert.equal(submitted.contributor, contributor.address);
  }
  await send(datanets, owner, "review", [1, true, 95]);
  await send(datanets, owner, "review", [2, true, 80]);
  await send(datanets, owner, "review", [3, false, 10]);
  const [version, expectedRoot] = await datanets.publishVersion.staticCall(datanetId);
  const leaves = hashes.slice(0, 2).map(leafOf);
  assert.equal(expectedRoot, rootOf(leaves));
  const published = await send(datanets, owner, "publishVersion", [datanetId]);
  const [versionEvent] = events(datanets, published, "VersionPublished");
  assert.deepEqual([versionEvent.version, versionEvent.root, versionEvent.contributionCount], [1n, rootOf(leaves), 2n]);
  assert.equal(await datanets.verifyInclusion(datanetId, version, hashes[1], proofOf(leaves, 1)), true);
  assert.equal(await datanets.verifyInclusion(datanetId, version, hashes[2], proofOf(leaves, 1)), false);

  // A model citing version 1, and an agent serving it.
  const price = 10n ** 15n;
  await send(models, modelOwner, "registerModel", ["med-7b", "hf://med-7b", [datanetId], [version], operator.address, price, 0]);
  await send(agents, agentOwner, "registerAgent", [1, "agent://triage"], 100n * ETHER);
  const agent = await agents.getAgent(1);
  assert.deepEqual([agent.owner, agent.stake, agent.status], [agentOwner.address, 100n * ETHER, 1n]);

  // Guards answer with their reason.
  await assert.rejects(
    attribution.connect(alice).recordInference.staticCall(1, 0, ethers.id("x"), [1], [1], ethers.ZeroHash, { value: price }),
    (error) => /only the operator of model 1/.test(error.reason),
  );
  await assert.rejects(
    attribution.connect(operator).recordInference.staticCall(1, 0, ethers.id("x"), [3], [1], ethers.ZeroHash, { value: price }),
    (error) => error.reason === "attribution: contribution 3 is not accepted",
  );

  // Two inferences: one naming the agent, one without.
  const inferences = [
    { agentId: 1n, ids: [1n, 2n], weights: [2n, 1n], fee: ETHER + 7n },
    { agentId: 0n, ids: [2n, 1n], weights: [1n, 3n], fee: ETHER / 2n + 1n },
  ];
  const owed = new Map([alice, bob, modelOwner, agentOwner, validator].map((w) => [w.address, 0n]));
  const contributorOf = { 1: alice.address, 2: bob.address };
  for (const [index, inference] of inferences.entries()) {
    const receipt = await send(attribution, operator, "recordInference", [
      1, inference.agentId, ethers.id(`inference ${index}`), inference.ids, inference.weights, ethers.id(`evidence ${index}`),
    ], inference.fee);
    const expected = split(inference.fee, inference.weights, inference.agentId !== 0n);
    const [recorded] = events(attribution, receipt, "InferenceRecorded");
    assert.deepEqual([recorded.inferenceId, recorded.fee, recorded.operator], [BigInt(index + 1), inference.fee, operator.address]);
    const [feeSplit] = events(attribution, receipt, "FeeSplit");
    assert.deepEqual(
      [feeSplit.protocolShare, feeSplit.modelOwnerShare, feeSplit.agentOwnerShare, feeSplit.contributorsShare],
      [expected.protocol, expected.modelOwner, expected.agentOwner, expected.pool],
    );
    const rewarded = events(attribution, receipt, "ContributionRewarded");
    assert.deepEqual(rewarded.map((r) => [r.contributionId, r.amount]), inference.ids.map((id, i) => [id, expected.parts[i]]));
    assert.equal(expected.protocol + expected.modelOwner + expected.agentOwner + expected.pool, inference.fee);
    inference.ids.forEach((id, i) => owed.set(contributorOf[id], owed.get(contributorOf[id]) + expected.parts[i]));
    owed.set(modelOwner.address, owed.get(modelOwner.address) + expected.modelOwner);
    owed.set(agentOwner.address, owed.get(agentOwner.address) + expected.agentOwner);
    owed.set(validator.address, owed.get(validator.address) + expected.protocol);
  }
  for (const account of [alice, bob, modelOwner, agentOwner]) {
    assert.equal(await attribution.pendingRewards(account.address), owed.get(account.address));
  }
  const protocolPending = await attribution.pendingRewards(validator.address);
  assert.ok(protocolPending === owed.get(validator.address) || protocolPending === 0n);
  const held = await provider.getBalance(attribution.target);
  const contributorsAndOwners = [alice, bob, modelOwner, agentOwner].reduce((sum, w) => sum + owed.get(w.address), 0n);
  assert.equal(held, contributorsAndOwners + protocolPending);

  // Contributors claim: their balance grows by exactly what was owed, less the gas.
  for (const contributor of [alice, bob]) {
    const before = await provider.getBalance(contributor.address);
    const receipt = await send(attribution, contributor, "claim", []);
    const [claimed] = events(attribution, receipt, "RewardsClaimed");
    assert.equal(claimed.amount, owed.get(contributor.address));
    assert.equal(await provider.getBalance(contributor.address), before + owed.get(contributor.address) - receipt.fee);
    assert.equal(await attribution.pendingRewards(contributor.address), 0n);
  }
  const [earned, credited] = await attribution.contributionEarnings(1);
  assert.deepEqual([earned, credited], [owed.get(alice.address), 2n]);
  assert.equal((await attribution.contributorStats(bob.address)).attributions, 2n);
});
