// The load client of bench/live.py without a WebSocket library: N
// graphql-transport-ws sockets on Node's `net`, one subscription each, arrival
// times recorded per update sequence (arguments and output: tally.js).
//
// The frames of one read are scanned in place (no event per frame, no string
// per payload): about half the CPU of client.js (`ws`) per socket opened, which
// leaves more of one machine to the server it measures.
"use strict";
const net = require("net");
const { settings, now, Tally } = require("./tally");

const tally = new Tally();
const target = new URL(settings.url);
const HANDSHAKE =
  `GET ${target.pathname} HTTP/1.1\r\nHost: ${target.host}\r\nUpgrade: websocket\r\n` +
  "Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n" +
  "Sec-WebSocket-Version: 13\r\nSec-WebSocket-Protocol: graphql-transport-ws\r\n\r\n";
const INIT = frame(1, Buffer.from('{"type":"connection_init","payload":{}}'));
const SUBSCRIBE = frame(1, Buffer.from(settings.subscribe));
const ACK = Buffer.from('{"type":"connection_ack"');
const SEQUENCE = Buffer.from('"sequence":');
const sockets = [];

// A client frame (RFC 6455 5.2): final, masked with a zero key (payload as it is).
function frame(opcode, payload) {
  const size = payload.length;
  const head = size < 126 ? Buffer.from([0x80 | opcode, 0x80 | size])
    : Buffer.from([0x80 | opcode, 0x80 | 126, size >> 8, size & 0xff]);
  return Buffer.concat([head, Buffer.alloc(4), payload]);
}

// The number after "sequence": in buffer[start..end), or -1.
function sequenceOf(buffer, start, end) {
  const at = buffer.indexOf(SEQUENCE, start);
  if (at < 0 || at >= end) return -1;
  let value = 0;
  for (let i = at + SEQUENCE.length; i < end; i++) {
    const digit = buffer[i] - 48;
    if (digit < 0 || digit > 9) break;
    value = value * 10 + digit;
  }
  return value;
}

function open(index) {
  return new Promise((resolve) => {
    const options = { host: target.hostname, port: Number(target.port) };
    if (settings.source) options.localAddress = settings.source;
    const socket = net.connect(options, () => socket.write(HANDSHAKE));
    socket.setNoDelay(true);
    let pending = null; // the bytes of an incomplete frame (or HTTP response)
    let upgraded = false;
    let first = true;

    function onFrame(opcode, buffer, start, end, at) {
      if (opcode === 9) { socket.write(frame(10, buffer.subarray(start, end))); return; } // ping
      if (opcode === 8) { tally.closedBy(end - start >= 2 ? buffer.readUInt16BE(start) : 1005); return; }
      if (opcode !== 1) return;
      if (end - start >= ACK.length && buffer.compare(ACK, 0, ACK.length, start, start + ACK.length) === 0) {
        socket.write(SUBSCRIBE);
        return;
      }
      const sequence = sequenceOf(buffer, start, end);
      if (sequence < 0) return;
      tally.arrived(index, sequence, at, first);
      if (first) { first = false; resolve(); }
    }

    socket.on("data", (chunk) => {
      const buffer = pending === null ? chunk : Buffer.concat([pending, chunk]);
      pending = null;
      let at = 0;
      if (!upgraded) {
        const end = buffer.indexOf("\r\n\r\n");
        if (end < 0) { pending = buffer; return; }
        if (buffer.toString("latin1", 0, 12) !== "HTTP/1.1 101") {
          tally.failed++; socket.destroy(); resolve(); return;
        }
        upgraded = true;
        socket.write(INIT);
        at = end + 4;
      }
      const arrived = now();
      while (at + 2 <= buffer.length) {
        let size = buffer[at + 1] & 0x7f;
        let start = at + 2;
        if (size === 126) {
          if (start + 2 > buffer.length) break;
          size = buffer.readUInt16BE(start); start += 2;
        } else if (size === 127) {
          if (start + 8 > buffer.length) break;
          size = Number(buffer.readBigUInt64BE(start)); start += 8;
        }
        if (start + size > buffer.length) break;
        onFrame(buffer[at] & 0x0f, buffer, start, start + size, arrived);
        at = start + size;
      }
      if (at < buffer.length) pending = buffer.subarray(at);
    });
    socket.on("error", () => { tally.failed++; resolve(); });
    socket.on("close", () => resolve());
    sockets.push(socket);
  });
}

tally.run(open, () => { for (const socket of sockets) socket.destroy(); });
