// JSON-RPC to the node that serves this page: HTTP POST for calls, a WebSocket for newHeads.
// The page has no other source of data; every number it shows comes from here.

const ENDPOINT = window.location.origin + "/";
const MAX_BLOCK_RANGE = 10000; // the node's eth_getLogs limit per query
const MAX_LOG_WINDOWS = 100; // bounds a history scan to the last 1,000,000 blocks
const BATCH = 200; // requests per batch (the node takes up to 1000)

export class RpcError extends Error {
  constructor(method, error) {
    super(`${method}: ${error.message}`);
    this.code = error.code;
    this.data = error.data;
  }
}

let nextId = 1;

async function post(body) {
  const response = await fetch(ENDPOINT, {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify(body),
  });
  if (!response.ok) throw new Error(`the node answered HTTP ${response.status}`);
  return response.json();
}

/** Call one method; throws RpcError with the node's message on a JSON-RPC error. */
export async function call(method, params = []) {
  const answer = await post({ jsonrpc: "2.0", id: nextId++, method, params });
  if (answer.error) throw new RpcError(method, answer.error);
  return answer.result;
}

/** Call many methods in batches; results in order, each either a value or an RpcError. */
export async function callMany(requests) {
  const results = [];
  for (let start = 0; start < requests.length; start += BATCH) {
    const chunk = requests.slice(start, start + BATCH);
    const first = nextId;
    nextId += chunk.length;
    const body = chunk.map(([method, params], i) => ({ jsonrpc: "2.0", id: first + i, method, params }));
    const answers = await post(body);
    const byId = new Map(answers.map((answer) => [answer.id, answer]));
    chunk.forEach(([method], i) => {
      const answer = byId.get(first + i);
      results.push(answer.error ? new RpcError(method, answer.error) : answer.result);
    });
  }
  return results;
}

/** Every log matching `filter` from genesis to the head, newest window first, in chain order.
 * The node answers at most 10,000 blocks per query, so the range is walked in windows. */
export async function allLogs(filter) {
  const head = parseInt(await call("eth_blockNumber"), 16);
  const windows = [];
  for (let to = head; to >= 0 && windows.length < MAX_LOG_WINDOWS; to -= MAX_BLOCK_RANGE) {
    const from = Math.max(0, to - MAX_BLOCK_RANGE + 1);
    windows.push(["eth_getLogs", [{ ...filter, fromBlock: hex(from), toBlock: hex(to) }]]);
  }
  const answers = await callMany(windows);
  const logs = [];
  for (const answer of answers.reverse()) {
    if (answer instanceof Error) throw answer;
    logs.push(...answer);
  }
  return logs;
}

export function hex(number) {
  return "0x" + BigInt(number).toString(16);
}

/** newHeads over the node's WebSocket; reconnects (bounded back-off) while the page is open. */
export function subscribeHeads(onHead, onState) {
  const url = window.location.origin.replace(/^http/, "ws") + "/";
  let delay = 500;
  const connect = () => {
    const socket = new WebSocket(url);
    socket.onopen = () => {
      delay = 500;
      onState("live");
      socket.send(JSON.stringify({ jsonrpc: "2.0", id: 1, method: "eth_subscribe", params: ["newHeads"] }));
    };
    socket.onmessage = (event) => {
      const message = JSON.parse(event.data);
      if (message.method === "eth_subscription") onHead(message.params.result);
    };
    socket.onclose = () => {
      onState("reconnecting");
      setTimeout(connect, delay);
      delay = Math.min(delay * 2, 10000);
    };
  };
  connect();
}
