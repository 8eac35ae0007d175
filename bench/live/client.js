// A lean load client for bench/live.py: N graphql-transport-ws sockets, one
// subscription each, arrival times recorded per update sequence.
//
//   node client.js <ws-url> <count> <json: {query, variables, field}>
//
// Prints "ready <n>" once every socket holds its subscription (its first
// message arrived). Then reads one JSON line on stdin: {"sent": {"<sequence>":
// <epoch ms>}}, and prints one JSON line: deliveries, latencies (ms, sorted
// sample), and how many sockets saw the last sequence.
"use strict";
const WebSocket = require("ws");
const readline = require("readline");
const { performance } = require("perf_hooks");

const [url, countArg, specArg] = process.argv.slice(2);
const count = Number(countArg);
const spec = JSON.parse(specArg);
const now = () => performance.timeOrigin + performance.now();
const subscribe = JSON.stringify({
  id: "1", type: "subscribe", payload: { query: spec.query, variables: spec.variables },
});
const arrivals = new Map(); // sequence -> array of epoch ms
const lastSeen = new Int32Array(count).fill(-1);
const sockets = [];
let ready = 0;
let failed = 0;
let base = -1;
const SEQ = /"sequence":(\d+)/;

function open(index) {
  return new Promise((resolve) => {
    const ws = new WebSocket(url, "graphql-transport-ws", { perMessageDeflate: false });
    let first = true;
    ws.on("open", () => ws.send('{"type":"connection_init","payload":{}}'));
    ws.on("message", (data) => {
      const text = data.toString();
      if (text.startsWith('{"type":"connection_ack"')) { ws.send(subscribe); return; }
      const match = SEQ.exec(text);
      if (match === null) return;
      const sequence = Number(match[1]);
      if (first) { first = false; ready++; if (base < 0) base = sequence; resolve(); }
      else {
        let list = arrivals.get(sequence);
        if (list === undefined) arrivals.set(sequence, (list = []));
        list.push(now());
      }
      if (sequence > lastSeen[index]) lastSeen[index] = sequence;
    });
    ws.on("error", () => { failed++; resolve(); });
    ws.on("close", () => resolve());
    sockets.push(ws);
  });
}

async function main() {
  for (let start = 0; start < count; start += 100) {
    const batch = [];
    for (let i = start; i < Math.min(count, start + 100); i++) batch.push(open(i));
    await Promise.all(batch);
  }
  process.stdout.write(`ready ${ready} failed ${failed} base ${base}\n`);
  const lines = readline.createInterface({ input: process.stdin });
  for await (const line of lines) {
    const sent = JSON.parse(line).sent;
    const latencies = [];
    for (const [sequence, at] of Object.entries(sent)) {
      for (const arrived of arrivals.get(Number(sequence)) || []) latencies.push(arrived - at);
    }
    const last = Math.max(...Object.keys(sent).map(Number));
    let sawLast = 0;
    for (const seen of lastSeen) if (seen >= last) sawLast++;
    latencies.sort((a, b) => a - b);
    for (const ws of sockets) ws.terminate();
    const result = JSON.stringify({ ready, failed, saw_last: sawLast, latencies }) + "\n";
    process.stdout.write(result, () => process.exit(0)); // a pipe is written asynchronously
  }
}
main();
