// Attribution views: Datanets with contributions, reviews and versions; contributions; models with
// their citations, fee and inferences (and the graph Datanet → model → inferences → contributors);
// agents; an inference with its fee split. All read from the precompiles' views and logs.
import { events, view, views, ViewReverted } from "./abi.js";
import { allLogs } from "./rpc.js";
import {
  addressLink, agentLink, blockLink, contributionLink, datanetLink, facts, h, inferenceLink, link,
  modelLink, problem, section, svg, table, txLink, wei,
} from "./ui.js";
import { evidencePanel } from "./evidence.js";

const MODALITIES = ["text", "image", "audio"];
const STATUSES = { 1: "pending", 2: "accepted", 3: "rejected" };
const AGENT_STATUSES = { 1: "active", 2: "unbonding", 3: "withdrawn" };

/** Links for the id arguments of our events and calls (used by the transaction view). */
export function argumentLinks(name, value) {
  if (typeof value !== "bigint" || value === 0n) return null;
  const links = { datanetId: datanetLink, modelId: modelLink, inferenceId: inferenceLink, contributionId: contributionLink, parentModelId: modelLink };
  return links[name] ? links[name](value) : null;
}

/** The id in a route, or null when it is not a positive decimal integer that fits a uint256. */
function parseId(text) {
  if (!/^[1-9]\d{0,77}$/.test(text)) return null;
  const id = BigInt(text);
  return id < 2n ** 256n ? id : null;
}

async function viewOr(missing, name, method, args) {
  try {
    return await view(name, method, args);
  } catch (error) {
    if (error instanceof ViewReverted) return missing(error.message);
    throw error;
  }
}

// --- Datanets -----------------------------------------------------------------------------------

export async function datanets() {
  const created = await events(allLogs, "IDatanets", "DatanetCreated");
  const found = await views(created.map(({ args }) => ["IDatanets", "getDatanet", [args.datanetId]]));
  const rows = [];
  for (const [i, { log, args }] of created.entries()) {
    const d = found[i];
    rows.push([datanetLink(args.datanetId), d.name, addressLink(d.owner), MODALITIES[Number(d.modality)] ?? String(d.modality),
      d.isPublic ? "public" : "private", String(d.acceptedCount), String(d.latestVersion), blockLink(log.blockNumber)]);
  }
  return h("div", {}, h("h1", {}, "Datanets"),
    table(["id", "name", "owner", "modality", "access", "accepted", "latest version", "created"], rows, "No Datanet has been created yet."));
}

export async function datanet(idText) {
  const id = parseId(idText);
  if (id === null) return problem("Not a Datanet id", `“${idText}” is not a positive whole number below 2²⁵⁶.`);
  const d = await viewOr(() => null, "IDatanets", "getDatanet", [id]);
  if (!d) return problem("No such Datanet", `Datanet ${id} does not exist on this chain.`);
  const [submitted, reviewed, versions, flagged] = await Promise.all([
    events(allLogs, "IDatanets", "ContributionSubmitted", [null, id]),
    events(allLogs, "IDatanets", "ContributionReviewed", [null, id]),
    events(allLogs, "IDatanets", "VersionPublished", [id]),
    events(allLogs, "IDatanets", "ContributionFlagged", [null, id]),
  ]);
  const found = await views(submitted.flatMap(({ args }) => [
    ["IDatanets", "getContribution", [args.contributionId]], ["IAttribution", "contributionEarnings", [args.contributionId]]]));
  const contributions = [];
  for (const [i, { args }] of submitted.entries()) {
    const [c, earned] = [found[2 * i], found[2 * i + 1]];
    contributions.push([contributionLink(args.contributionId), addressLink(c.contributor), h("code", {}, c.contentHash), c.uri, String(c.size),
      STATUSES[Number(c.status)] ?? String(c.status), String(c.qualityScore), c.flagged ? h("span", { class: "bad" }, "flagged") : "no",
      wei(earned.earned), String(earned.inferences)]);
  }
  return h("div", { class: "datanet" },
    h("h1", {}, `Datanet ${id}: `, d.name),
    facts([["owner", addressLink(d.owner)], ["metadata", d.metadataURI], ["modality", MODALITIES[Number(d.modality)] ?? String(d.modality)],
      ["access", d.isPublic ? "public" : "private (owner and curators)"], ["accepted contributions", String(d.acceptedCount)],
      ["latest version", String(d.latestVersion)]]),
    section("Contributions", table(["id", "contributor", "content hash", "uri", "size", "status", "quality", "flagged", "earned", "inferences"], contributions, "No contributions yet.")),
    section("Reviews", table(["contribution", "reviewer", "decision", "quality", "transaction"],
      reviewed.map(({ log, args }) => [contributionLink(args.contributionId), addressLink(args.reviewer), args.accepted ? "accepted" : "rejected",
        String(args.qualityScore), txLink(log.transactionHash)]), "No reviews yet.")),
    section("Versions", table(["version", "Merkle root", "contributions", "block"],
      versions.map(({ log, args }) => [String(args.version), h("code", {}, args.root), String(args.contributionCount), blockLink(log.blockNumber)]),
      "No version published yet.")),
    flagged.length ? section("Flags", table(["contribution", "contributor", "by", "reason", "penalties"],
      flagged.map(({ args }) => [contributionLink(args.contributionId), addressLink(args.contributor), addressLink(args.flaggedBy), args.reason, String(args.penalties)]))) : null);
}

export async function contribution(idText) {
  const id = parseId(idText);
  if (id === null) return problem("Not a contribution id", `“${idText}” is not a positive whole number below 2²⁵⁶.`);
  const c = await viewOr(() => null, "IDatanets", "getContribution", [id]);
  if (!c) return problem("No such contribution", `Contribution ${id} does not exist on this chain.`);
  const earned = await view("IAttribution", "contributionEarnings", [id]);
  const rewards = await events(allLogs, "IAttribution", "ContributionRewarded", [null, id]);
  return h("div", {}, h("h1", { id: `contribution-${id}` }, `Contribution ${id}`),
    facts([["Datanet", datanetLink(c.datanetId)], ["contributor", addressLink(c.contributor)], ["content hash", h("code", {}, c.contentHash)],
      ["uri", c.uri], ["size", `${c.size} bytes`], ["status", STATUSES[Number(c.status)] ?? String(c.status)], ["quality", String(c.qualityScore)],
      ["flagged", c.flagged ? "yes" : "no"], ["earned", wei(earned.earned)], ["inferences", String(earned.inferences)]]),
    section("Rewards", table(["inference", "amount", "transaction"],
      rewards.map(({ log, args }) => [inferenceLink(args.inferenceId), wei(args.amount), txLink(log.transactionHash)]), "No inference has credited it yet.")));
}

// --- models and agents --------------------------------------------------------------------------

export async function models() {
  const registered = await events(allLogs, "IModels", "ModelRegistered");
  const found = await views(registered.map(({ args }) => ["IModels", "getModel", [args.modelId]]));
  const rows = [];
  for (const [i, { log, args }] of registered.entries()) {
    const m = found[i];
    rows.push([modelLink(args.modelId), m.name, addressLink(m.owner), wei(m.feePerInference),
      h("span", {}, [...args.datanetIds].map((d, i) => [i ? ", " : "", datanetLink(d), ` v${args.datanetVersions[i]}`])), blockLink(log.blockNumber)]);
  }
  return h("div", {}, h("h1", {}, "Models"), table(["id", "name", "owner", "fee", "cites", "registered"], rows, "No model has been registered yet."));
}

export async function model(idText) {
  const id = parseId(idText);
  if (id === null) return problem("Not a model id", `“${idText}” is not a positive whole number below 2²⁵⁶.`);
  const m = await viewOr(() => null, "IModels", "getModel", [id]);
  if (!m) return problem("No such model", `Model ${id} does not exist on this chain.`);
  const cited = await view("IModels", "getModelDatanets", [id]);
  const recorded = await events(allLogs, "IAttribution", "InferenceRecorded", [null, id]);
  const rewards = recorded.length === 0 ? []
    : await events(allLogs, "IAttribution", "ContributionRewarded", [recorded.map(({ args }) => args.inferenceId)]);
  return h("div", {}, h("h1", {}, `Model ${id}: `, m.name),
    facts([["owner", addressLink(m.owner)], ["operator", addressLink(m.operator)], ["uri", m.uri], ["fee per inference", wei(m.feePerInference)],
      ["parent", m.parentModelId === 0n ? "none" : modelLink(m.parentModelId)]]),
    section("Cites", table(["Datanet", "version"], [...cited.datanetIds].map((d, i) => [datanetLink(d), String(cited.datanetVersions[i])]))),
    section(`Inferences (${recorded.length})`, table(["inference", "agent", "fee", "contributions", "block", "transaction"],
      recorded.map(({ log, args }) => [inferenceLink(args.inferenceId), agentLink(args.agentId), wei(args.fee),
        [...args.contributionIds].join(", "), blockLink(log.blockNumber), txLink(log.transactionHash)]), "No inference recorded yet.")),
    section("Attribution graph", graph(id, cited, recorded, rewards)));
}

/** Datanet → model → inferences → contributors, as columns of nodes joined by lines. */
function graph(modelId, cited, recorded, rewards) {
  const contributors = [...new Set(rewards.map(({ args }) => args.contributor))];
  const columns = [
    [...cited.datanetIds].map((d) => ({ key: `d${d}`, label: `Datanet ${d}`, href: `#/datanet/${d}` })),
    [{ key: "m", label: `model ${modelId}`, href: `#/model/${modelId}` }],
    recorded.map(({ args }) => ({ key: `i${args.inferenceId}`, label: `inference ${args.inferenceId}`, href: `#/inference/${args.inferenceId}` })),
    contributors.map((a) => ({ key: `a${a}`, label: `${a.slice(0, 8)}…${a.slice(-4)}`, href: `#/address/${a}` })),
  ];
  const edges = [...columns[0].map((n) => [n.key, "m"]), ...columns[2].map((n) => ["m", n.key]),
    ...rewards.map(({ args }) => [`i${args.inferenceId}`, `a${args.contributor}`])];
  const width = 860, rowHeight = 44, boxWidth = 150;
  const height = Math.max(...columns.map((c) => c.length), 1) * rowHeight + 20;
  const at = new Map();
  columns.forEach((column, x) => column.forEach((node, y) => {
    const top = (height - column.length * rowHeight) / 2 + y * rowHeight + 10;
    at.set(node.key, { x: 20 + x * ((width - boxWidth - 40) / 3), y: top });
  }));
  const picture = svg("svg", { viewBox: `0 0 ${width} ${height}`, class: "graph", role: "img", "aria-label": "attribution graph" });
  for (const [from, to] of edges) {
    const a = at.get(from), b = at.get(to);
    if (a && b) picture.append(svg("line", { x1: a.x + boxWidth, y1: a.y + 14, x2: b.x, y2: b.y + 14, class: "edge" }));
  }
  columns.flat().forEach((node) => {
    const { x, y } = at.get(node.key);
    const anchor = svg("a", { href: node.href }, svg("rect", { x, y, width: boxWidth, height: 28, rx: 6, class: `node node-${node.key[0]}` }),
      svg("text", { x: x + boxWidth / 2, y: y + 18, "text-anchor": "middle" }, node.label));
    picture.append(anchor);
  });
  return picture;
}

export async function agents() {
  const registered = await events(allLogs, "IAgents", "AgentRegistered");
  const found = await views(registered.map(({ args }) => ["IAgents", "getAgent", [args.agentId]]));
  const rows = [];
  for (const [i, { log, args }] of registered.entries()) {
    const a = found[i];
    rows.push([String(args.agentId), addressLink(a.owner), modelLink(a.modelId), a.uri, wei(a.stake), AGENT_STATUSES[Number(a.status)] ?? String(a.status), blockLink(log.blockNumber)]);
  }
  return h("div", {}, h("h1", {}, "Agents"), table(["id", "owner", "model", "uri", "stake", "status", "registered"], rows, "No agent has been registered yet."));
}

// --- inferences ---------------------------------------------------------------------------------

export async function inference(idText) {
  const id = parseId(idText);
  if (id === null) return problem("Not an inference id", `“${idText}” is not a positive whole number below 2²⁵⁶.`);
  const record = await viewOr(() => null, "IAttribution", "getInference", [id]);
  if (!record || record.modelId === 0n) return problem("No such inference", `Inference ${id} does not exist on this chain.`);
  const [[recorded], [split], rewards] = await Promise.all([
    events(allLogs, "IAttribution", "InferenceRecorded", [id]),
    events(allLogs, "IAttribution", "FeeSplit", [id]),
    events(allLogs, "IAttribution", "ContributionRewarded", [id]),
  ]);
  const s = split.args;
  const paid = s.protocolShare + s.modelOwnerShare + s.agentOwnerShare + rewards.reduce((sum, { args }) => sum + args.amount, 0n);
  const weights = new Map([...recorded.args.contributionIds].map((c, i) => [c, recorded.args.weights[i]]));
  return h("div", {}, h("h1", {}, `Inference ${id}`),
    facts([["model", modelLink(record.modelId)], ["agent", agentLink(record.agentId)], ["operator", addressLink(record.operator)],
      ["inference hash", h("code", {}, record.inferenceHash)], ["evidence root", h("code", {}, record.evidenceRoot)],
      ["fee", wei(record.fee)], ["block", blockLink(record.blockNumber)], ["transaction", txLink(recorded.log.transactionHash)],
      ["attribution hash", h("code", {}, record.attributionHash)]]),
    section("Fee split", h("table", { class: "list split" },
      h("thead", {}, h("tr", {}, ["share", "to", "amount"].map((t) => h("th", {}, t)))),
      h("tbody", {},
        splitRow("protocol", "validators that signed the parent block", s.protocolShare),
        splitRow("model owner", addressLink(s.modelOwner), s.modelOwnerShare),
        splitRow("agent owner", s.agentOwnerShare > 0n ? addressLink(s.agentOwner) : "no agent", s.agentOwnerShare),
        splitRow("contributors", `${rewards.length} contributions`, s.contributorsShare),
        rewards.map(({ args }) => splitRow(h("span", { class: "indent" }, contributionLink(args.contributionId), ` (weight ${weights.get(args.contributionId) ?? "?"})`),
          addressLink(args.contributor), args.amount)),
        h("tr", { class: "total" }, h("td", {}, "total paid"), h("td", {}, paid === record.fee ? "equals the fee" : h("span", { class: "bad" }, "differs from the fee")), h("td", {}, wei(paid)))))),
    section("Span evidence", evidencePanel(record, weights)));
}

function splitRow(share, to, amount) {
  return h("tr", {}, h("td", {}, share), h("td", {}, to), h("td", {}, wei(amount)));
}

export { link };
