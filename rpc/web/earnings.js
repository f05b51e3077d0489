// A contributor's earnings: totals from contributorStats and pendingRewards, and every
// ContributionRewarded log credited to the address, summed over time (by block) in a uPlot chart,
// per Datanet and per model.
import { events, ethers, view, views } from "./abi.js";
import { allLogs, callMany, hex } from "./rpc.js";
import { datanetLink, facts, h, inferenceLink, contributionLink, modelLink, section, table, time, txLink, wei, blockLink } from "./ui.js";

const COLOURS = ["#2563eb", "#16a34a", "#db2777", "#ea580c", "#7c3aed", "#0891b2"];

export async function contributorPanel(account) {
  const [stats, pending, rewards] = await Promise.all([
    view("IAttribution", "contributorStats", [account]),
    view("IAttribution", "pendingRewards", [account]),
    events(allLogs, "IAttribution", "ContributionRewarded", [null, null, account]),
  ]);
  if (rewards.length === 0 && stats.attributions === 0n) {
    return section("Attribution earnings", h("p", { class: "muted empty" }, "No inference has credited a contribution of this address."));
  }
  const contributions = distinct(rewards.map(({ args }) => args.contributionId));
  const inferences = distinct(rewards.map(({ args }) => args.inferenceId));
  const found = await views([...contributions.map((id) => ["IDatanets", "getContribution", [id]]),
    ...inferences.map((id) => ["IAttribution", "getInference", [id]])]);
  const datanetOf = new Map(contributions.map((id, i) => [id, found[i].datanetId]));
  const modelOf = new Map(inferences.map((id, i) => [id, found[contributions.length + i].modelId]));
  const blocks = [...new Set(rewards.map(({ log }) => parseInt(log.blockNumber, 16)))].sort((a, b) => a - b);
  const headers = await callMany(blocks.map((n) => ["eth_getBlockByNumber", [hex(n), false]]));
  const timestamps = new Map(blocks.map((n, i) => [n, headers[i].timestamp]));
  const byDatanet = sums(rewards, ({ args }) => datanetOf.get(args.contributionId));
  const byModel = sums(rewards, ({ args }) => modelOf.get(args.inferenceId));
  return section("Attribution earnings",
    facts([["earned in total", wei(stats.earned)], ["attributions", String(stats.attributions)], ["penalties", String(stats.penalties)],
      ["claimable now (all shares)", wei(pending)]]),
    chart(rewards, blocks, timestamps, datanetOf, modelOf),
    h("div", { class: "columns" },
      section("Per Datanet", table(["Datanet", "earned"], [...byDatanet].map(([id, sum]) => [datanetLink(id), wei(sum)]))),
      section("Per model", table(["model", "earned"], [...byModel].map(([id, sum]) => [modelLink(id), wei(sum)])))),
    section("Rewards", table(["block", "time", "inference", "contribution", "amount", "transaction"], rewards.map(({ log, args }) => [
      blockLink(log.blockNumber), time(timestamps.get(parseInt(log.blockNumber, 16))), inferenceLink(args.inferenceId),
      contributionLink(args.contributionId), wei(args.amount), txLink(log.transactionHash)]))));
}

function distinct(values) {
  return [...new Set(values)].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
}

function formatOpen(value) {
  return value == null ? "—" : Number(value).toPrecision(3);
}

function sums(rewards, keyOf) {
  const totals = new Map();
  for (const reward of rewards) {
    const key = keyOf(reward);
    totals.set(key, (totals.get(key) ?? 0n) + reward.args.amount);
  }
  return totals;
}

/** Cumulative earnings at each block that paid the address: in total, per Datanet, per model. */
function chart(rewards, blocks, timestamps, datanetOf, modelOf) {
  const groups = [
    ...distinct(rewards.map(({ args }) => datanetOf.get(args.contributionId))).map((d) => ({ label: `Datanet ${d}`, dash: [6, 4], has: (args) => datanetOf.get(args.contributionId) === d })),
    ...distinct(rewards.map(({ args }) => modelOf.get(args.inferenceId))).map((m) => ({ label: `model ${m}`, dash: [2, 3], has: (args) => modelOf.get(args.inferenceId) === m })),
  ];
  const running = groups.map(() => 0n);
  let total = 0n;
  const totals = [], perGroup = groups.map(() => []);
  for (const block of blocks) {
    for (const { log, args } of rewards) {
      if (parseInt(log.blockNumber, 16) !== block) continue;
      total += args.amount;
      groups.forEach((group, i) => { if (group.has(args)) running[i] += args.amount; });
    }
    totals.push(total);
    groups.forEach((group, i) => perGroup[i].push(running[i]));
  }
  const toOpen = (amount) => Number(ethers.formatEther(amount));
  const box = h("div", { class: "chart", id: "earnings-chart", "data-cumulative-wei": totals.map(String).join(","), "data-blocks": blocks.join(",") });
  const stepped = window.uPlot.paths.stepped({ align: 1 }); // earnings change at a block, then hold
  const series = [{ label: "block", value: (u, v) => (v == null ? "—" : String(v)) },
    { label: "total (OPEN)", stroke: COLOURS[0], width: 2, paths: stepped, value: (u, v) => formatOpen(v) },
    ...groups.map((group, i) => ({ label: group.label, stroke: COLOURS[(i + 1) % COLOURS.length], dash: group.dash, paths: stepped, value: (u, v) => formatOpen(v) }))];
  // One block before the first payment, at zero, so that the first step shows.
  const data = [[blocks[0] - 1, ...blocks], [0, ...totals.map(toOpen)], ...perGroup.map((values) => [0, ...values.map(toOpen)])];
  const options = {
    width: 760, height: 260, series, title: "Cumulative earnings by block",
    scales: { x: { time: false, range: (u, min, max) => [min, max + 1] }, y: { range: (u, min, max) => [0, max * 1.1 || 1] } },
    axes: [
      { label: "block", incrs: [1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000, 10000, 100000], values: (u, ticks) => ticks.map(String) },
      { label: "OPEN", size: 90, values: (u, ticks) => ticks.map(formatOpen) },
    ],
  };
  // uPlot draws once the box is in the document; the router inserts views synchronously.
  queueMicrotask(() => new window.uPlot(options, data, box));
  return h("div", {}, box, h("p", { class: "muted" }, `Blocks ${blocks.map((b, i) => `${b} (${time(timestamps.get(b))})`).join(", ")}.`));
}
