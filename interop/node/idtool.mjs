// idtool.mjs: identity cross-checks against the real iroh binding.
//
// Reads one JSON request per stdin line and writes one JSON reply per line:
//   {"op":"pub","secretHex":H}                → {"ok":true,"endpointId":hex}
//   {"op":"ticket-decode","ticket":T}         → {"ok":true,"endpointId","relayUrls","addrs","reencoded"}
//   {"op":"ticket-encode","endpointId","relayUrl","addrs"} → {"ok":true,"ticket":T}
//   {"op":"parse-id","s":S}                   → {"ok":true,"endpointId":hex} or {"ok":false,"error"}
// Any failure is {"ok":false,"error":"..."}; the tool keeps reading.
//
// It binds no endpoint, but still loads the native binding, so run it inside
// a loopback-only network namespace like the other scripts.
import iroh from '@number0/iroh';
import { createInterface } from 'node:readline';

const { SecretKey, EndpointId, EndpointAddr, EndpointTicket } = iroh;

function bytesFromHex(hex, n, what) {
  if (typeof hex !== 'string' || hex.length !== 2 * n || !/^[0-9a-fA-F]*$/.test(hex)) {
    throw new Error(`${what} must be ${2 * n} hex characters`);
  }
  return Array.from(Buffer.from(hex, 'hex'));
}

const ops = {
  pub(req) {
    const sk = SecretKey.fromBytes(bytesFromHex(req.secretHex, 32, 'secretHex'));
    return { endpointId: sk.public().toString() };
  },
  'ticket-decode'(req) {
    const ticket = EndpointTicket.fromString(String(req.ticket));
    const addr = ticket.endpointAddr();
    const relay = addr.relayUrl();
    return {
      endpointId: addr.id().toString(),
      relayUrls: relay ? [relay] : [],
      addrs: addr.directAddresses(),
      reencoded: EndpointTicket.fromAddr(addr).toString(),
    };
  },
  'ticket-encode'(req) {
    const id = EndpointId.fromString(String(req.endpointId));
    const addr = new EndpointAddr(id, req.relayUrl ?? null, req.addrs ?? []);
    return { ticket: EndpointTicket.fromAddr(addr).toString() };
  },
  'parse-id'(req) {
    return { endpointId: EndpointId.fromString(String(req.s)).toString() };
  },
};

function handle(line) {
  let req;
  try {
    req = JSON.parse(line);
  } catch (err) {
    return { ok: false, error: `bad request JSON: ${err.message}` };
  }
  const op = ops[req?.op];
  if (!op) return { ok: false, error: `unknown op ${JSON.stringify(req?.op)}` };
  try {
    return { ok: true, ...op(req) };
  } catch (err) {
    // The binding appends a Rust backtrace; the first line is the message.
    return { ok: false, error: String(err?.message ?? err).split('\n')[0] };
  }
}

const rl = createInterface({ input: process.stdin, crlfDelay: Infinity });
rl.on('line', (line) => {
  if (line.trim() === '') return;
  process.stdout.write(JSON.stringify(handle(line)) + '\n');
});
