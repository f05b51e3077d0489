// Span evidence of an inference: the output with each credited span highlighted and linked to the
// contribution it came from.
//
// A record, as the attribution engine's `trace` makes it (attribution/engine/), is {"outputRoot", "evidenceRoot",
// "spans": [{"outputStart", "length", "contributionId", "contributionStart"}, ...]}: entries sorted
// by (outputStart, contributionId); entries sharing one output range form a span, credited when it
// has one entry and boilerplate (earning nothing) when it has several. A span earns its new bytes,
// those past the end of every earlier span. evidenceRoot = keccak256 of the entries as four 32-byte
// words each; outputRoot is the output's content root (256-byte chunks, leaves keccak(0x00‖chunk),
// nodes keccak(0x01‖left‖right) padded with empty subtrees, root keccak(0x02‖uint256(length)‖tree)).
//
// The chain holds the record's commitment (the inference's evidenceRoot), not the record or the
// output, so a reader pastes both; the page recomputes both roots, compares the evidence root with
// the chain's and the weights the evidence implies with the inference's weights.
import { ethers } from "./vendor/ethers.min.js";
import { contributionLink, h, problem, table } from "./ui.js";

const ZERO = "0x" + "00".repeat(32);
const HASH = /^0x[0-9a-fA-F]{64}$/;
const FIELDS = ["outputStart", "length", "contributionId", "contributionStart"];

/** The panel of an inference: `record` from getInference, `weights` contribution id → weight. */
export function evidencePanel(record, weights) {
  const result = h("div", { id: "evidence-result" });
  const recordInput = h("textarea", { id: "evidence-record", rows: 5, placeholder: '{"outputRoot": "0x…", "evidenceRoot": "0x…", "spans": [{"outputStart": 0, "length": 48, "contributionId": 1, "contributionStart": 0}]}' });
  const outputInput = h("textarea", { id: "evidence-output", rows: 4, placeholder: "the output text (UTF-8)" });
  const show = () => result.replaceChildren(render(record, weights, recordInput.value, outputInput.value));
  return h("div", { class: "evidence" },
    record.evidenceRoot === ZERO
      ? h("p", { class: "muted" }, "This inference commits to no span evidence (its evidence root is zero): its weights were declared by the operator.")
      : h("p", {}, "This inference commits to the evidence root ", h("code", {}, record.evidenceRoot), ". Paste its span-evidence record and the output to see the credited spans."),
    h("label", {}, "Span-evidence record (JSON)", recordInput),
    h("label", {}, "Output", outputInput),
    h("button", { id: "evidence-show", type: "button", onclick: show }, "Show spans"),
    result);
}

function render(record, weights, recordText, output) {
  let evidence;
  try {
    evidence = JSON.parse(recordText);
  } catch (error) {
    return problem("Not a span-evidence record", `The record is not valid JSON: ${error.message}`);
  }
  const bytes = new TextEncoder().encode(output);
  const fault = check(evidence, bytes.length);
  if (fault) return problem("Not a span-evidence record", fault);
  const evidenceRoot = computeEvidenceRoot(evidence.spans);
  if (evidenceRoot !== evidence.evidenceRoot.toLowerCase()) {
    return problem("The record does not match its evidence root", `Its spans hash to ${evidenceRoot}, not ${evidence.evidenceRoot}.`);
  }
  if (evidenceRoot !== record.evidenceRoot.toLowerCase()) {
    return problem("This record is not this inference's", `Its evidence root ${evidenceRoot} differs from the one on chain, ${record.evidenceRoot}.`);
  }
  const outputRoot = computeContentRoot(bytes);
  if (outputRoot !== evidence.outputRoot.toLowerCase()) {
    return problem("This is not the record's output", `The output's content root is ${outputRoot}, the record's is ${evidence.outputRoot}.`);
  }
  const spans = group(evidence.spans);
  const implied = new Map();
  const decoder = new TextDecoder();
  const text = h("p", { class: "output", id: "evidence-text" });
  let at = 0;
  for (const span of spans) {
    const end = span.outputStart + span.length;
    const fresh = Math.max(at, span.outputStart);
    if (fresh >= end) continue; // inside earlier spans: no new bytes
    if (fresh > at) text.append(decoder.decode(bytes.slice(at, fresh)));
    const piece = decoder.decode(bytes.slice(fresh, end));
    if (span.entries.length === 1) {
      const id = BigInt(span.entries[0].contributionId);
      implied.set(id, (implied.get(id) ?? 0n) + BigInt(end - fresh));
      text.append(h("a", { href: `#/contribution/${id}`, class: `span c${id % 6n}`, "data-contribution": String(id),
        title: `contribution ${id}, from its byte ${span.entries[0].contributionStart}` }, h("mark", {}, piece)));
    } else {
      text.append(h("span", { class: "boilerplate", title: `boilerplate: held by contributions ${span.entries.map((e) => e.contributionId).join(", ")}; earns nothing` }, piece));
    }
    at = end;
  }
  if (at < bytes.length) text.append(decoder.decode(bytes.slice(at)));
  const agrees = implied.size === weights.size && [...implied].every(([id, weight]) => weights.get(id) === weight);
  return h("div", {}, text,
    table(["output bytes", "span", "contribution", "from its byte", "weight it implies", "weight on chain"], spans.flatMap((span) => span.entries.map((entry) => {
      const id = BigInt(entry.contributionId);
      const credited = span.entries.length === 1;
      return [`${span.outputStart}–${span.outputStart + span.length}`, credited ? "credited" : "boilerplate", contributionLink(id), String(entry.contributionStart),
        credited ? String(implied.get(id) ?? 0n) : "—", credited && weights.has(id) ? String(weights.get(id)) : "—"];
    }))),
    h("p", { id: "evidence-verdict", class: agrees ? "ok" : "bad" }, agrees
      ? "The output and the spans match the record's roots, the evidence root is the one on chain, and the weights on chain are the ones the evidence implies."
      : "The roots match, but the weights on chain are not the ones the evidence implies."));
}

/** What is wrong with a parsed record, or null. */
function check(evidence, outputLength) {
  if (typeof evidence !== "object" || evidence === null || Array.isArray(evidence)) return "The record must be a JSON object.";
  for (const field of ["outputRoot", "evidenceRoot"]) {
    if (typeof evidence[field] !== "string" || !HASH.test(evidence[field])) return `“${field}” must be a 32-byte hex string.`;
  }
  if (!Array.isArray(evidence.spans) || evidence.spans.length === 0) return "“spans” must be a non-empty list.";
  for (const [i, span] of evidence.spans.entries()) {
    for (const field of FIELDS) {
      if (!Number.isSafeInteger(span?.[field]) || span[field] < 0) return `Entry ${i}: “${field}” must be a whole number of at least 0.`;
    }
    if (span.length === 0) return `Entry ${i} is empty.`;
    if (span.outputStart + span.length > outputLength) return `Entry ${i} ends at byte ${span.outputStart + span.length}, but the output has ${outputLength} bytes.`;
    const before = evidence.spans[i - 1];
    if (before && (before.outputStart > span.outputStart || (before.outputStart === span.outputStart && before.contributionId >= span.contributionId))) {
      return `Entry ${i} is out of order: entries are sorted by (outputStart, contributionId), each pair once.`;
    }
    if (before && before.outputStart === span.outputStart && before.length !== span.length) return `Entries ${i - 1} and ${i} start together but differ in length.`;
  }
  return null;
}

function group(entries) {
  const spans = [];
  for (const entry of entries) {
    const last = spans.at(-1);
    if (last && last.outputStart === entry.outputStart) last.entries.push(entry);
    else spans.push({ outputStart: entry.outputStart, length: entry.length, entries: [entry] });
  }
  return spans;
}

function computeEvidenceRoot(entries) {
  return ethers.keccak256(ethers.concat(entries.flatMap((entry) => FIELDS.map((field) => ethers.toBeHex(entry[field], 32)))));
}

const CHUNK = 256;

function computeContentRoot(bytes) {
  const node = (left, right) => ethers.keccak256(ethers.concat(["0x01", left, right]));
  let level = [];
  for (let i = 0; i < bytes.length; i += CHUNK) level.push(ethers.keccak256(ethers.concat(["0x00", bytes.slice(i, i + CHUNK)])));
  let empty = ZERO;
  while (level.length > 1) {
    if (level.length % 2) level.push(empty);
    const next = [];
    for (let i = 0; i < level.length; i += 2) next.push(node(level[i], level[i + 1]));
    level = next;
    empty = node(empty, empty);
  }
  return ethers.keccak256(ethers.concat(["0x02", ethers.toBeHex(bytes.length, 32), level[0] ?? ZERO]));
}
