// What both load clients of bench/live.py share: their arguments, the arrivals
// they record, and the conversation with bench/live.py.
//
//   node <client>.js <ws-url> <count> <json: {query, variables}> [source address] [batch]
//
// A client prints "ready <n> failed <f> base <first sequence> cpu_ms <c> wall_ms <w>"
// once every socket holds its subscription (its first message arrived). Then it
// reads one JSON line on stdin: {"sent": {"<sequence>": <epoch ms>}}, and prints
// one JSON line: deliveries, latencies (ms, sorted), how many sockets saw the
// last sequence, and the sockets the server closed, by close code.
"use strict";
const readline = require("readline");
const { performance } = require("perf_hooks");

const [url, countArg, specArg, source, batchArg] = process.argv.slice(2);
const count = Number(countArg);
const spec = JSON.parse(specArg);
const settings = {
  url, count, source, // source: a local address of its own (its own ephemeral ports)
  batchSize: Number(batchArg || 100), // sockets opening at once
  subscribe: JSON.stringify({
    id: "1", type: "subscribe", payload: { query: spec.query, variables: spec.variables },
  }),
};
const now = () => performance.timeOrigin + performance.now();

class Tally {
  constructor() {
    this.arrivals = new Map(); // sequence -> array of epoch ms
    this.lastSeen = new Int32Array(count).fill(-1);
    this.ready = 0;
    this.failed = 0;
    this.base = -1;
    this.closed = {}; // close code the server sent -> sockets
  }

  // The server closed a socket with `code` (1011: its keepalive ping went unanswered).
  closedBy(code) { this.closed[code] = (this.closed[code] || 0) + 1; }

  // Socket `index` received update `sequence` at `at`; `first`: its subscription's first.
  arrived(index, sequence, at, first) {
    if (first) { this.ready++; if (this.base < 0) this.base = sequence; }
    else {
      let list = this.arrivals.get(sequence);
      if (list === undefined) this.arrivals.set(sequence, (list = []));
      list.push(at);
    }
    if (sequence > this.lastSeen[index]) this.lastSeen[index] = sequence;
  }

  // Open every socket (`open(index)` resolves once it is subscribed or failed), report,
  // answer bench/live.py, then `close()` them all and exit.
  async run(open, close) {
    for (let start = 0; start < count; start += settings.batchSize) {
      const batch = [];
      for (let i = start; i < Math.min(count, start + settings.batchSize); i++) batch.push(open(i));
      await Promise.all(batch);
    }
    const cpu = process.cpuUsage();
    process.stdout.write(
      `ready ${this.ready} failed ${this.failed} base ${this.base} ` +
      `cpu_ms ${Math.round((cpu.user + cpu.system) / 1000)} wall_ms ${Math.round(performance.now())}\n`,
    );
    const lines = readline.createInterface({ input: process.stdin });
    for await (const line of lines) {
      const sent = JSON.parse(line).sent;
      const latencies = [];
      for (const [sequence, at] of Object.entries(sent)) {
        for (const arrived of this.arrivals.get(Number(sequence)) || []) latencies.push(arrived - at);
      }
      const last = Math.max(...Object.keys(sent).map(Number));
      let sawLast = 0;
      for (const seen of this.lastSeen) if (seen >= last) sawLast++;
      latencies.sort((a, b) => a - b);
      close();
      const result = JSON.stringify({
        ready: this.ready, failed: this.failed, saw_last: sawLast, closed: this.closed, latencies,
      }) + "\n";
      process.stdout.write(result, () => process.exit(0)); // a pipe is written asynchronously
    }
  }
}

module.exports = { settings, now, Tally };
