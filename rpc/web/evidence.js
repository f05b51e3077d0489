// Span evidence of an inference: the output with each credited span highlighted and linked to the
// contribution it came from.
//
// The chain holds only the record's commitment (the inference's evidenceRoot); the record itself
// ({"outputRoot", "evidenceRoot", "spans": [{"outputStart", "length", "contributionId",
// "contributionStart"}]}, as `openledger attribution trace --json` prints it) and the output's
// bytes travel off chain. So a reader pastes both here; the page checks the record's evidence root
// against the chain's and its spans against the output and the inference's credited
// contributions. Recomputing the root from the spans is the attribution engine's rule and is not
// done here.
import { h, problem, table, contributionLink } from "./ui.js";

const ZERO = "0x" + "00".repeat(32);
const HASH = /^0x[0-9a-fA-F]{64}$/;

export function evidencePanel(record, creditedIds = []) {
  const result = h("div", { id: "evidence-result" });
  const recordInput = h("textarea", { id: "evidence-record", rows: 5, placeholder: '{"outputRoot": "0x…", "evidenceRoot": "0x…", "spans": [{"outputStart": 0, "length": 12, "contributionId": 1, "contributionStart": 0}]}' });
  const outputInput = h("textarea", { id: "evidence-output", rows: 4, placeholder: "the output text (UTF-8)" });
  const show = () => {
    result.replaceChildren(render(record, creditedIds, recordInput.value, outputInput.value));
  };
  return h("div", { class: "evidence" },
    record.evidenceRoot === ZERO
      ? h("p", { class: "muted" }, "This inference commits to no span evidence (its evidence root is zero): its weights were declared by the operator.")
      : h("p", {}, "This inference commits to the evidence root ", h("code", {}, record.evidenceRoot), ". Paste its span-evidence record and the output to see the credited spans."),
    h("label", {}, "Span-evidence record (JSON)", recordInput),
    h("label", {}, "Output", outputInput),
    h("button", { id: "evidence-show", type: "button", onclick: show }, "Show spans"),
    result);
}

function render(record, creditedIds, recordText, output) {
  let evidence;
  try {
    evidence = JSON.parse(recordText);
  } catch (error) {
    return problem("Not a span-evidence record", `The record is not valid JSON: ${error.message}`);
  }
  const fault = check(evidence);
  if (fault) return problem("Not a span-evidence record", fault);
  if (evidence.evidenceRoot.toLowerCase() !== record.evidenceRoot.toLowerCase()) {
    return problem("This record is not this inference's", `Its evidence root ${evidence.evidenceRoot} differs from the one on chain, ${record.evidenceRoot}.`);
  }
  const bytes = new TextEncoder().encode(output);
  const spans = [...evidence.spans].sort((a, b) => a.outputStart - b.outputStart);
  for (let i = 0; i < spans.length; i++) {
    const span = spans[i];
    if (span.outputStart + span.length > bytes.length) {
      return problem("The spans do not fit this output", `A span ends at byte ${span.outputStart + span.length}, but the output has ${bytes.length} bytes.`);
    }
    if (i > 0 && span.outputStart < spans[i - 1].outputStart + spans[i - 1].length) {
      return problem("Not a span-evidence record", `Spans overlap at byte ${span.outputStart}.`);
    }
  }
  const credited = new Set(creditedIds.map((id) => BigInt(id)));
  const decoder = new TextDecoder("utf-8", { fatal: false });
  const text = h("p", { class: "output", id: "evidence-text" });
  let at = 0;
  for (const span of spans) {
    if (span.outputStart > at) text.append(decoder.decode(bytes.slice(at, span.outputStart)));
    const id = BigInt(span.contributionId);
    text.append(h("a", { href: `#/contribution/${id}`, class: credited.has(id) ? "span" : "span uncredited", "data-contribution": String(id),
      title: `contribution ${id}, from its byte ${span.contributionStart}` }, h("mark", {}, decoder.decode(bytes.slice(span.outputStart, span.outputStart + span.length)))));
    at = span.outputStart + span.length;
  }
  if (at < bytes.length) text.append(decoder.decode(bytes.slice(at)));
  return h("div", {}, text,
    table(["output bytes", "contribution", "from its byte", "credited on chain"], spans.map((span) => [
      `${span.outputStart}–${span.outputStart + span.length}`, contributionLink(BigInt(span.contributionId)), String(span.contributionStart),
      credited.has(BigInt(span.contributionId)) ? "yes" : h("span", { class: "bad" }, "no")])),
    h("p", { class: "muted" }, "Checked here: the evidence root against the chain's, the spans against the output. Not checked here: the output root and how the evidence root derives from the spans."));
}

/** What is wrong with a parsed record's shape, or null. */
function check(evidence) {
  if (typeof evidence !== "object" || evidence === null || Array.isArray(evidence)) return "The record must be a JSON object.";
  for (const field of ["outputRoot", "evidenceRoot"]) {
    if (typeof evidence[field] !== "string" || !HASH.test(evidence[field])) return `“${field}” must be a 32-byte hex string.`;
  }
  if (!Array.isArray(evidence.spans)) return "“spans” must be a list.";
  for (const [i, span] of evidence.spans.entries()) {
    for (const field of ["outputStart", "length", "contributionId", "contributionStart"]) {
      if (!Number.isSafeInteger(span?.[field]) || span[field] < 0) return `Span ${i}: “${field}” must be a whole number of at least 0.`;
    }
    if (span.length === 0) return `Span ${i} is empty.`;
  }
  return null;
}
