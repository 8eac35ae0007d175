// The load client of bench/live.py on Node's `ws`: N graphql-transport-ws
// sockets, one subscription each, arrival times recorded per update sequence
// (arguments and output: tally.js). raw.js does the same with less CPU.
"use strict";
const WebSocket = require("ws");
const { settings, now, Tally } = require("./tally");

const tally = new Tally();
const options = { perMessageDeflate: false };
if (settings.source) options.localAddress = settings.source;
const SEQ = /"sequence":(\d+)/;
const sockets = [];
let closing = false; // the end of the run: sockets close because this client closes them

function open(index) {
  return new Promise((resolve) => {
    const ws = new WebSocket(settings.url, "graphql-transport-ws", options);
    let first = true;
    ws.on("open", () => ws.send('{"type":"connection_init","payload":{}}'));
    ws.on("message", (data) => {
      const text = data.toString();
      if (text.startsWith('{"type":"connection_ack"')) { ws.send(settings.subscribe); return; }
      const match = SEQ.exec(text);
      if (match === null) return;
      tally.arrived(index, Number(match[1]), now(), first);
      if (first) { first = false; resolve(); }
    });
    ws.on("error", () => { tally.failed++; resolve(); });
    ws.on("close", (code) => { if (!closing) tally.closedBy(code); resolve(); });
    sockets.push(ws);
  });
}

tally.run(open, () => { closing = true; for (const ws of sockets) ws.terminate(); });
