// DOM helpers. Everything read from the chain (names, URIs, reasons) is set as text, never
// parsed as HTML, so a Datanet named "<script>" stays a name.
import { ethers } from "./vendor/ethers.min.js";

/** h("a", {href: "#/"}, "text", child, ...): an element with attributes and children. */
export function h(tag, attributes = {}, ...children) {
  const element = document.createElement(tag);
  for (const [key, value] of Object.entries(attributes || {})) {
    if (value === undefined || value === null || value === false) continue;
    if (key.startsWith("on")) element.addEventListener(key.slice(2), value);
    else element.setAttribute(key, value === true ? "" : String(value));
  }
  append(element, children);
  return element;
}

function append(element, children) {
  for (const child of children.flat(Infinity)) {
    if (child === undefined || child === null || child === false) continue;
    element.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
}

export function svg(tag, attributes = {}, ...children) {
  const element = document.createElementNS("http://www.w3.org/2000/svg", tag);
  for (const [key, value] of Object.entries(attributes)) element.setAttribute(key, String(value));
  append(element, children);
  return element;
}

export const link = (href, ...children) => h("a", { href }, ...children);
export const blockLink = (number) => link(`#/block/${BigInt(number)}`, `#${BigInt(number)}`);
export const txLink = (hash) => link(`#/tx/${hash}`, h("code", {}, short(hash)));
export const addressLink = (address) =>
  address ? link(`#/address/${ethers.getAddress(address)}`, h("code", {}, ethers.getAddress(address))) : "—";
export const datanetLink = (id) => link(`#/datanet/${id}`, `Datanet ${id}`);
export const modelLink = (id) => link(`#/model/${id}`, `model ${id}`);
export const inferenceLink = (id) => link(`#/inference/${id}`, `inference ${id}`);
export const contributionLink = (id) => link(`#/contribution/${id}`, `contribution ${id}`);
export const agentLink = (id) => (BigInt(id) === 0n ? "none" : link(`#/agents`, `agent ${id}`));

export function short(hash) {
  return hash.length > 20 ? `${hash.slice(0, 10)}…${hash.slice(-8)}` : hash;
}

/** An amount of wei, exactly, with its OPEN value beside it. */
export function wei(amount) {
  const value = BigInt(amount);
  return h("span", { class: "amount", "data-wei": value.toString() }, `${value} wei`,
    h("span", { class: "muted" }, ` (${ethers.formatEther(value)} OPEN)`));
}

export function time(seconds) {
  return new Date(Number(BigInt(seconds)) * 1000).toISOString().replace(".000Z", "Z");
}

/** A two-column table of label → value. */
export function facts(rows) {
  return h("table", { class: "facts" },
    rows.filter(Boolean).map(([label, value]) => h("tr", {}, h("th", {}, label), h("td", {}, value))));
}

/** A table with a header row; rows are arrays of cells. An empty list shows `empty`. */
export function table(headers, rows, empty = "Nothing yet.") {
  if (rows.length === 0) return h("p", { class: "muted empty" }, empty);
  return h("table", { class: "list" },
    h("thead", {}, h("tr", {}, headers.map((title) => h("th", {}, title)))),
    h("tbody", {}, rows.map((cells) => h("tr", {}, cells.map((cell) => h("td", {}, cell))))));
}

export function section(title, ...children) {
  return h("section", {}, h("h2", {}, title), ...children);
}

/** A clear message in place of a view (role=alert, so assistive tools read it out). */
export function problem(title, detail) {
  return h("div", { class: "problem", role: "alert" }, h("strong", {}, title), detail ? h("p", {}, detail) : null);
}

export class NotFound extends Error {}

export function bigint(value) {
  return BigInt(value);
}
