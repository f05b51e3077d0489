// The network view: every validator (the set signing the head, the genesis set, and any other
// registered or jailed one found in the staking precompile's logs) with power, stake,
// commission, jailed and active state; finality; and the proposer and signers of each recent
// block's commit. It refreshes on every new head.
import { events, views, ViewReverted } from "./abi.js";
import { allLogs, callMany, hex } from "./rpc.js";
import { addressLink, blockLink, facts, h, section, table, wei } from "./ui.js";

const RECENT = 10;

export async function network() {
  const page = h("div", {});
  page.replaceChildren(...await render());
  let busy = false;
  page.onHead = async () => {
    if (busy) return; // a refresh still running covers this head too
    busy = true;
    try {
      page.replaceChildren(...await render());
    } finally {
      busy = false;
    }
  };
  return page;
}

async function render() {
  const [set, first, consensus, finalized, head] = await callMany([
    ["ol_getValidators", ["latest"]], ["ol_getValidators", ["earliest"]], ["ol_consensusState", []],
    ["eth_getBlockByNumber", ["finalized", false]], ["eth_getBlockByNumber", ["latest", false]]]);
  for (const answer of [set, first, consensus, finalized, head]) if (answer instanceof Error) throw answer;
  const power = new Map(set.validators.map((member) => [member.address.toLowerCase(), BigInt(member.power)]));
  // Genesis validators emit no ValidatorRegistered, and downtime jailing emits no log: the first
  // block's set names the former, so a jailed one that left the set is still listed.
  const [registered, jailed] = await Promise.all([events(allLogs, "IStaking", "ValidatorRegistered"), events(allLogs, "IStaking", "Jailed")]);
  const candidates = [...new Set([...power.keys(), ...first.validators.map((member) => member.address.toLowerCase()),
    ...[...registered, ...jailed].map(({ args }) => args.validator.toLowerCase())])];
  const staking = await views(candidates.map((address) => ["IStaking", "getValidator", [address]]));
  const rows = candidates.map((address, i) => {
    const v = staking[i] instanceof ViewReverted || !staking[i].registered ? null : staking[i];
    return [addressLink(address), power.has(address) ? String(power.get(address)) : "—",
      v ? wei(v.stake) : "—", v ? `${Number(v.commissionBps) / 100}%` : "—",
      !v ? "—" : v.tombstoned ? h("span", { class: "bad" }, "tombstoned") : v.jailed ? h("span", { class: "bad" }, `jailed until block ${v.jailedUntil}`) : "no",
      v ? (v.active ? "yes" : "no") : "—"];
  });
  const headNumber = parseInt(head.number, 16);
  const recent = [...Array(Math.min(RECENT, headNumber)).keys()].map((i) => headNumber - i);
  const answers = await callMany(recent.flatMap((n) => [["ol_getCommit", [hex(n)]], ["eth_getBlockByNumber", [hex(n), false]]]));
  const commits = recent.map((n, i) => [answers[2 * i], answers[2 * i + 1]]).filter(([commit, block]) =>
    commit && block && !(commit instanceof Error) && !(block instanceof Error));
  return [
    h("h1", {}, "Network"),
    facts([
      ["head", blockLink(head.number)],
      ["finalized", h("span", { id: "finalized" }, blockLink(finalized.number), parseInt(finalized.number, 16) === headNumber ? " (every committed block is final)" : "")],
      ["consensus", h("code", {}, Object.entries(consensus).map(([key, value]) => `${key}: ${typeof value === "object" ? JSON.stringify(value) : value}`).join(", "))],
      ["total voting power", String(BigInt(set.totalPower))],
    ]),
    section(`Validators (the set signing block ${BigInt(set.height)} has ${set.validators.length})`,
      table(["validator", "power", "stake", "commission", "jailed", "active"], rows)),
    section("Commits of the latest blocks", table(["block", "proposer", "round", "signers"],
      commits.map(([commit, block]) => [blockLink(commit.height), addressLink(block.miner), String(BigInt(commit.round)),
        h("span", {}, `${commit.precommits.length} of ${set.validators.length}: `, commit.precommits.map((p, i) => [i ? ", " : "", addressLink(p.validator)]))]))),
  ];
}
