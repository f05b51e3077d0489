// The precompiles' interfaces (abi.json, compiled from the shipped Solidity files) and calls of
// their views through eth_call, decoded with ethers' ABI coder.
import { ethers } from "./vendor/ethers.min.js";
import { call, callMany } from "./rpc.js";

export const ADDRESSES = {
  IDatanets: "0x0000000000000000000000000000000000000a01",
  IModels: "0x0000000000000000000000000000000000000a02",
  IAgents: "0x0000000000000000000000000000000000000a03",
  IAttribution: "0x0000000000000000000000000000000000000a04",
  IStaking: "0x0000000000000000000000000000000000000800",
};

const interfaces = {};
const byAddress = new Map();

export async function loadInterfaces() {
  const response = await fetch("abi.json");
  const abis = await response.json();
  for (const [name, address] of Object.entries(ADDRESSES)) {
    interfaces[name] = new ethers.Interface(abis[name]);
    byAddress.set(address, name);
  }
}

/** The interface name of a precompile address, or undefined. */
export function interfaceAt(address) {
  return address ? byAddress.get(address.toLowerCase()) : undefined;
}

export function iface(name) {
  return interfaces[name];
}

/** The topic of an event, for eth_getLogs filters. */
export function topic(name, event) {
  return interfaces[name].getEvent(event).topicHash;
}

/** A number or address as a 32-byte topic. */
export function word(value) {
  if (typeof value === "string" && value.length === 42) return ethers.zeroPadValue(value, 32);
  return ethers.toBeHex(BigInt(value), 32);
}

export class ViewReverted extends Error {}

/** Call a precompile view at the head; returns the decoded Result (named fields). A revert
 * becomes ViewReverted with the precompile's reason. */
export async function view(name, method, args = [], block = "latest") {
  const contract = interfaces[name];
  const data = contract.encodeFunctionData(method, args);
  let output;
  try {
    output = await call("eth_call", [{ to: ADDRESSES[name], data }, block]);
  } catch (error) {
    if (error.code === 3 || /revert/i.test(error.message)) throw new ViewReverted(revertReason(error));
    throw error;
  }
  return contract.decodeFunctionResult(method, output);
}

/** Many views in one batched request: [[name, method, args], ...] to decoded Results, in order.
 * A view that reverts comes back as a ViewReverted in its place. */
export async function views(requests) {
  const answers = await callMany(requests.map(([name, method, args]) =>
    ["eth_call", [{ to: ADDRESSES[name], data: interfaces[name].encodeFunctionData(method, args) }, "latest"]]));
  return answers.map((answer, i) => {
    const [name, method] = requests[i];
    if (!(answer instanceof Error)) return interfaces[name].decodeFunctionResult(method, answer);
    if (answer.code === 3 || /revert/i.test(answer.message)) return new ViewReverted(revertReason(answer));
    throw answer;
  });
}

function revertReason(error) {
  if (typeof error.data === "string" && error.data.startsWith("0x08c379a0")) {
    try {
      return ethers.AbiCoder.defaultAbiCoder().decode(["string"], "0x" + error.data.slice(10))[0];
    } catch {
      // fall through to the node's message
    }
  }
  return error.message;
}

/** A log of one of our precompiles decoded: {interface, name, args} or null. */
export function decodeLog(log) {
  const name = interfaceAt(log.address);
  if (!name) return null;
  try {
    const parsed = interfaces[name].parseLog({ topics: log.topics, data: log.data });
    return parsed ? { interface: name, name: parsed.name, args: parsed.args, fragment: parsed.fragment } : null;
  } catch {
    return null;
  }
}

/** A transaction's input to a precompile decoded: {interface, name, args, fragment} or null. */
export function decodeInput(to, input) {
  const name = interfaceAt(to);
  if (!name || !input || input === "0x") return null;
  try {
    const parsed = interfaces[name].parseTransaction({ data: input });
    return parsed ? { interface: name, name: parsed.name, args: parsed.args, fragment: parsed.fragment } : null;
  } catch {
    return null;
  }
}

/** All logs of one event, decoded, each with its log (blockNumber, transactionHash). */
export async function events(allLogs, name, event, indexed = []) {
  // An indexed position may be null (any), a value, or a list of values (any of them).
  const topics = [topic(name, event), ...indexed.map((value) =>
    (value === null ? null : Array.isArray(value) ? value.map(word) : word(value)))];
  const logs = await allLogs({ address: ADDRESSES[name], topics });
  return logs.map((log) => ({ log, args: interfaces[name].parseLog(log).args }));
}

export { ethers };
