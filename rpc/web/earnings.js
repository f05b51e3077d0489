// A contributor's earnings: totals from contributorStats and pendingRewards, and every
// ContributionRewarded log credited to the address, summed over time (by block) in a uPlot chart,
// per Datanet and per model.
import { events, ethers, view } from "./abi.js";
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
  const datanetOf = new Map(), modelOf = new Map();
  for (const { args } of rewards) {
    if (!datanetOf.has(args.contributionId)) datanetOf.set(args.contributionId, (await view("IDatanets", "getContribution", [args.contributionId])).datanetId);
    if (!modelOf.has(args.inferenceId)) modelOf.set(args.inferenceId, (await view("IAttribution", "getInference", [args.inferenceId])).modelId);
  }
  const blocks = [...new Set(rewards.map(({ log }) => parseInt(log.blockNumber, 16)))].sort((a, b) => a - b);
  const headers = await callMany(blocks.map((n) => ["eth_getBlockByNumber", [hex(n), false]]));
  const timestamps = new Map(blocks.map((n, i) => [n, headers[i].timestamp]));
  const byDatanet = sums(rewards, ({ args }) => datanetOf.get(args.contributionId));
  const byModel = sums(rewards, ({ args }) => modelOf.get(args.inferenceId));
  return section("Attribution earnings",
    facts([["earned in total", wei(stats.earned)], ["attributions", String(stats.attributions)], ["penalties", String(stats.penalties)],
      ["claimable now (all shares)", wei(pending)]]),
    chart(rewards, blocks, timestamps, datanetOf),
    h("div", { class: "columns" },
      section("Per Datanet", table(["Datanet", "earned"], [...byDatanet].map(([id, sum]) => [datanetLink(id), wei(sum)]))),
      section("Per model", table(["model", "earned"], [...byModel].map(([id, sum]) => [modelLink(id), wei(sum)])))),
    section("Rewards", table(["block", "time", "inference", "contribution", "amount", "transaction"], rewards.map(({ log, args }) => [
      blockLink(log.blockNumber), time(timestamps.get(parseInt(log.blockNumber, 16))), inferenceLink(args.inferenceId),
      contributionLink(args.contributionId), wei(args.amount), txLink(log.transactionHash)]))));
}

function sums(rewards, keyOf) {
  const totals = new Map();
  for (const reward of rewards) {
    const key = keyOf(reward);
    totals.set(key, (totals.get(key) ?? 0n) + reward.args.amount);
  }
  return totals;
}

/** Cumulative earnings at each block that paid the address: in total and per Datanet. */
function chart(rewards, blocks, timestamps, datanetOf) {
  const datanets = [...new Set(rewards.map(({ args }) => datanetOf.get(args.contributionId)))].sort((a, b) => (a < b ? -1 : 1));
  const running = new Map(datanets.map((d) => [d, 0n]));
  let total = 0n;
  const totals = [], perDatanet = datanets.map(() => []);
  for (const block of blocks) {
    for (const { log, args } of rewards) {
      if (parseInt(log.blockNumber, 16) !== block) continue;
      total += args.amount;
      const d = datanetOf.get(args.contributionId);
      running.set(d, running.get(d) + args.amount);
    }
    totals.push(total);
    datanets.forEach((d, i) => perDatanet[i].push(running.get(d)));
  }
  const toOpen = (amount) => Number(ethers.formatEther(amount));
  const box = h("div", { class: "chart", id: "earnings-chart", "data-cumulative-wei": totals.map(String).join(","), "data-blocks": blocks.join(",") });
  const series = [{ label: "block" }, { label: "total (OPEN)", stroke: COLOURS[0], width: 2 },
    ...datanets.map((d, i) => ({ label: `Datanet ${d}`, stroke: COLOURS[(i + 1) % COLOURS.length], dash: [6, 4] }))];
  const data = [blocks, totals.map(toOpen), ...perDatanet.map((values) => values.map(toOpen))];
  const options = {
    width: 760, height: 260, series, title: "Cumulative earnings by block",
    scales: { x: { time: false } },
    axes: [{ label: "block" }, { label: "OPEN", size: 80 }],
  };
  // uPlot draws once the box is in the document; the router inserts views synchronously.
  queueMicrotask(() => new window.uPlot(options, data, box));
  return h("div", {}, box, h("p", { class: "muted" }, `Blocks ${blocks.map((b, i) => `${b} (${time(timestamps.get(b))})`).join(", ")}.`));
}
