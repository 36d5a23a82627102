// spoke.mjs: a real iroh 1.0 spoke (via @number0/iroh), used to test hubs
// written in Go (iroh dialing Go) and the Node hub itself.
//
// Normal mode sends --count envelopes one at a time, waits for each echo,
// checks it, then waits for --expect-broadcasts fan-out frames and prints
// one JSON result line. Exit status 0 only on success.
//
// --listen mode sends one "spoke.hello" envelope (a QUIC stream is invisible
// to the peer until data flows on it), then prints every received frame as
// a JSON line until the connection ends or SIGTERM/SIGINT arrives.
//
// --preset n0 builds the endpoint with iroh's n0 preset (n0's relays and
// address lookup: pkarr and DNS TXT for origin dns.iroh.link. through the
// system resolver); then --id alone is a valid target and iroh looks the
// hub up by EndpointId. The minimal preset (default) has no lookup.
//
// Run it only inside a network namespace with nothing but loopback.
import iroh from '@number0/iroh';
import { randomBytes } from 'node:crypto';
import {
  FrameReader, FrameWriter, encodeFrame, parseArgs, makeLogger, utf8,
} from './frame.mjs';
import { emitLine, superviseIfLogging } from './stdio.mjs';

const {
  Endpoint, EndpointAddr, EndpointId, EndpointTicket, RelayMap, RelayMode, presetMinimal, presetN0, setLogLevel,
} = iroh;

const PRESETS = { minimal: presetMinimal, n0: presetN0 };

const DEFAULT_ALPN = 'alkpubsub/1';
const FLAGS = ['id', 'addr', 'relay', 'ticket', 'count', 'size', 'expect-broadcasts', 'linger-ms', 'secret-hex',
  'alpn', 'bind', 'name', 'timeout-ms', 'listen', 'print-sent', 'log-level', 'send-raw', 'oversize', 'preset', 'watch-paths'];
const BOOLEANS = ['listen', 'print-sent', 'oversize', 'watch-paths'];

const log = makeLogger('spoke');
const out = emitLine;

class UsageError extends Error {}

function intFlag(args, name, def) {
  const v = args[name];
  if (v === undefined) return def;
  if (Array.isArray(v) || !/^\d+$/.test(v)) throw new UsageError(`--${name} must be a non-negative integer`);
  return Number(v);
}

function strFlag(args, name, def = null) {
  const v = args[name];
  if (v === undefined) return def;
  if (Array.isArray(v)) throw new UsageError(`--${name} given more than once`);
  return v;
}

function parseOptions(argv) {
  const args = parseArgs(argv, BOOLEANS);
  for (const k of Object.keys(args)) if (!FLAGS.includes(k)) throw new UsageError(`unknown flag --${k}`);
  const o = {
    id: strFlag(args, 'id'),
    addrs: args.addr === undefined ? [] : [].concat(args.addr),
    relay: strFlag(args, 'relay'),
    ticket: strFlag(args, 'ticket'),
    count: intFlag(args, 'count', 3),
    size: intFlag(args, 'size', 16),
    expectBroadcasts: intFlag(args, 'expect-broadcasts', 0),
    lingerMs: intFlag(args, 'linger-ms', 0),
    timeoutMs: intFlag(args, 'timeout-ms', 15_000),
    secretHex: strFlag(args, 'secret-hex'),
    alpn: strFlag(args, 'alpn', DEFAULT_ALPN),
    bind: strFlag(args, 'bind', '127.0.0.1:0'),
    name: strFlag(args, 'name', 'spoke'),
    listen: Boolean(args.listen),
    printSent: Boolean(args['print-sent']),
    logLevel: strFlag(args, 'log-level'),
    // Frame bodies (base64) sent before the envelopes; each must draw an
    // "error" envelope from the hub.
    raw: args['send-raw'] === undefined ? [] : [].concat(args['send-raw']).map((b) => Buffer.from(b, 'base64')),
    // Announce a frame larger than 16 MiB; the hub must close the connection.
    oversize: Boolean(args.oversize),
    preset: strFlag(args, 'preset', 'minimal'),
    // Print a JSON line on stderr whenever iroh selects another path.
    watchPaths: Boolean(args['watch-paths']),
  };
  if (!Object.hasOwn(PRESETS, o.preset)) throw new UsageError(`--preset must be one of ${Object.keys(PRESETS)}`);
  if (o.ticket && (o.id || o.addrs.length > 0)) throw new UsageError('--ticket excludes --id/--addr');
  if (!o.ticket && !o.id) throw new UsageError('need --id (with --addr and/or --relay) or --ticket');
  if (!o.ticket && o.addrs.length === 0 && !o.relay && o.preset !== 'n0') {
    throw new UsageError('--id needs --addr and/or --relay (or --preset n0 to look it up)');
  }
  if (o.secretHex && !/^[0-9a-fA-F]{64}$/.test(o.secretHex)) throw new UsageError('--secret-hex must be 64 hex');
  return o;
}

async function bindEndpoint(o, relayUrl) {
  const b = Endpoint.builder();
  PRESETS[o.preset](b);
  b.bindAddr(o.bind);
  if (o.secretHex) b.secretKey(Array.from(Buffer.from(o.secretHex, 'hex')));
  if (relayUrl) {
    const map = RelayMap.empty();
    map.insert({ url: relayUrl });
    b.relayMode(RelayMode.custom(map));
  } else if (o.preset === 'minimal') {
    b.relayMode(RelayMode.disabled());
  }
  // With n0 and no relay given, the preset's default relays stay: iroh then
  // reaches the hub through whatever relay the lookup reports.
  return withTimeout(b.bind(), o.timeoutMs, 'endpoint bind');
}

// remoteInfo is what the endpoint knows about id (after a lookup or from
// the dialed address), or null.
async function remoteInfo(ep, id) {
  const a = await ep.remoteAddr(id);
  return a === null ? null : { relayUrl: a.relayUrl(), addrs: a.directAddresses() };
}

function pathsOf(conn) {
  return conn.paths().map((p) => ({ remoteAddr: p.remoteAddr, isRelay: p.isRelay, isSelected: p.isSelected }));
}

// watchSelectedPath prints {"event":"path_selected"} on stderr each time
// the selected path changes, with ms since the connection was made. It
// polls conn.paths() every millisecond (Node's finest timer), so that the
// poll adds little to the time measured: the binding's watchPaths panics
// (no Tokio reactor on the calling thread) in @number0/iroh 1.0.
function watchSelectedPath(conn, since) {
  let last = null;
  const timer = setInterval(() => {
    let paths;
    try {
      paths = conn.paths();
    } catch {
      clearInterval(timer);
      return;
    }
    const sel = paths.find((p) => p.isSelected);
    if (!sel || sel.remoteAddr === last) return;
    last = sel.remoteAddr;
    process.stderr.write(`${JSON.stringify({
      event: 'path_selected', relay: sel.isRelay, remoteAddr: sel.remoteAddr, ms: +(performance.now() - since).toFixed(3),
    })}\n`);
  }, 1);
  timer.unref();
}

function targetAddr(o) {
  if (o.ticket) return EndpointTicket.fromString(o.ticket).endpointAddr();
  return new EndpointAddr(EndpointId.fromString(o.id), o.relay, o.addrs);
}

// deepEqual compares JSON values ignoring object key order, so a hub that
// re-serialises the payload (e.g. Go maps) still counts as intact.
function deepEqual(a, b) {
  if (a === b) return true;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false;
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  const ka = Object.keys(a);
  const kb = Object.keys(b);
  if (ka.length !== kb.length) return false;
  return ka.every((k) => Object.prototype.hasOwnProperty.call(b, k) && deepEqual(a[k], b[k]));
}

function withTimeout(promise, ms, what) {
  let timer;
  const t = new Promise((_, reject) => { timer = setTimeout(() => reject(new Error(`timeout waiting for ${what}`)), ms); });
  return Promise.race([promise, t]).finally(() => clearTimeout(timer));
}

function parseBody(body) {
  try {
    return JSON.parse(body.toString('utf8'));
  } catch {
    return null;
  }
}

function stats(xs) {
  if (xs.length === 0) return null;
  const s = [...xs].sort((a, b) => a - b);
  const r = (x) => +x.toFixed(3);
  return { min: r(s[0]), median: r(s[Math.floor(s.length / 2)]), max: r(s[s.length - 1]),
    mean: r(s.reduce((p, x) => p + x, 0) / s.length) };
}

// Inbox sorts incoming frames into echoes (by id), errors and broadcasts.
class Inbox {
  constructor(reader) {
    this.reader = reader;
    this.echoes = new Map();
    this.waiters = new Map();
    this.broadcasts = 0;
    this.broadcastWaiter = null;
    this.errorWaiter = null;
    this.done = this.pump();
  }

  async pump() {
    for (;;) {
      const got = await this.reader.next();
      if (got === null) throw new Error('hub finished the stream');
      const msg = parseBody(got.body);
      if (msg && msg.type === 'error') {
        if (!this.errorWaiter) throw new Error(`hub reported error: ${JSON.stringify(msg.payload)}`);
        const w = this.errorWaiter;
        this.errorWaiter = null;
        w(msg);
        continue;
      }
      if (msg && typeof msg.type === 'string' && msg.type.endsWith('.echo') && this.waiters.has(msg.id)) {
        const w = this.waiters.get(msg.id);
        this.waiters.delete(msg.id);
        w(msg);
        continue;
      }
      this.broadcasts++;
      if (this.broadcastWaiter) this.broadcastWaiter();
    }
  }

  nextError() {
    return new Promise((resolve) => { this.errorWaiter = resolve; });
  }

  echo(id) {
    return new Promise((resolve) => this.waiters.set(id, resolve));
  }

  async broadcastsAtLeast(n) {
    while (this.broadcasts < n) await new Promise((r) => { this.broadcastWaiter = r; });
  }
}

function makePayload(seq, size) {
  // Random printable text so every run and envelope differs.
  return { seq, data: randomBytes(Math.ceil(size / 2)).toString('hex').slice(0, size) };
}

async function runSender(o, conn, result) {
  const bi = await conn.openBi();
  const writer = new FrameWriter(bi.send);
  const inbox = new Inbox(new FrameReader(bi.recv));
  const failed = inbox.done.then(() => { throw new Error('inbox ended'); });
  failed.catch(() => {});
  if (o.raw.length > 0) result.errors = [];
  for (const body of o.raw) {
    const errored = inbox.nextError();
    await writer.writeFrame(encodeFrame(body));
    const msg = await withTimeout(Promise.race([errored, failed]), o.timeoutMs, 'error reply to raw frame');
    result.errors.push({ id: msg.id ?? null, error: String(msg.payload?.error ?? '') });
  }
  const rtts = [];
  const sent = [];
  for (let i = 0; i < o.count; i++) {
    const env = { type: 'test.msg', id: `${o.name}-${i}`, payload: makePayload(i, o.size) };
    const frame = encodeFrame(env);
    if (o.printSent) sent.push(frame.subarray(4).toString('base64'));
    const echoed = inbox.echo(env.id);
    const t = performance.now();
    await writer.writeFrame(frame);
    const echo = await withTimeout(Promise.race([echoed, failed]), o.timeoutMs, `echo of ${env.id}`);
    rtts.push(performance.now() - t);
    if (echo.type !== 'test.msg.echo' || !deepEqual(echo.payload, env.payload)) {
      throw new Error(`echo of ${env.id} differs from what was sent`);
    }
    result.echoes++;
  }
  result.rttMs = stats(rtts);
  if (o.printSent) result.sent = sent;
  await withTimeout(Promise.race([inbox.broadcastsAtLeast(o.expectBroadcasts), failed]), o.timeoutMs,
    `${o.expectBroadcasts} broadcasts`);
  if (o.lingerMs > 0) await Promise.race([new Promise((r) => setTimeout(r, o.lingerMs)), failed]);
  result.broadcasts = inbox.broadcasts;
  await writer.finish();
}

// runOversize announces a frame one byte over the limit and waits for the
// hub to close the connection.
async function runOversize(o, conn, result) {
  const bi = await conn.openBi();
  const header = Buffer.alloc(8);
  header.writeUInt32BE(16 * 1024 * 1024 + 1, 0);
  await bi.send.writeAll(Array.from(header));
  result.closeReason = await withTimeout(conn.closed(), o.timeoutMs, 'hub to close the connection');
}

async function runListener(o, conn, result) {
  const bi = await conn.openBi();
  const writer = new FrameWriter(bi.send);
  const reader = new FrameReader(bi.recv);
  const helloId = `${o.name}-hello`;
  await writer.write({ type: 'spoke.hello', id: helloId, payload: { listen: true } });
  let ready = false;
  let frames = 0;
  for (;;) {
    const got = await reader.next();
    if (got === null) {
      out({ event: 'end', frames });
      return;
    }
    const msg = parseBody(got.body);
    if (!ready && msg && msg.type === 'spoke.hello.echo' && msg.id === helloId) {
      // The hub has registered us for fan-out once it echoed the hello.
      ready = true;
      out({ event: 'ready', endpointId: result.endpointId, remoteId: result.remoteId, connectMs: result.connectMs });
      continue;
    }
    frames++;
    out({ event: 'frame', len: got.body.length, b64: got.body.toString('base64'), msg });
  }
}

async function main() {
  let o;
  try {
    o = parseOptions(process.argv.slice(2));
  } catch (err) {
    out({ ok: false, echoes: 0, broadcasts: 0, connectMs: null, rttMs: null, error: `usage: ${err.message}` });
    process.exit(2);
  }
  if (superviseIfLogging(o.logLevel)) return;
  if (o.logLevel) setLogLevel(o.logLevel);
  const result = { ok: false, echoes: 0, broadcasts: 0, connectMs: null, rttMs: null, error: null };
  let ep = null;
  let conn = null;
  const finish = async (code) => {
    try {
      if (conn) conn.close(0n, utf8('spoke done'));
      if (ep) await withTimeout(ep.close(), 3_000, 'endpoint close');
    } catch (err) {
      log('warn', 'close failed', { error: String(err) });
    }
    process.exit(code);
  };
  if (o.listen) {
    process.on('SIGTERM', () => finish(0));
    process.on('SIGINT', () => finish(0));
  }
  try {
    const addr = targetAddr(o);
    const relayUrl = o.relay ?? addr.relayUrl();
    ep = await bindEndpoint(o, relayUrl);
    result.endpointId = ep.id().toString();
    const t0 = performance.now();
    conn = await withTimeout(ep.connect(addr, utf8(o.alpn)), o.timeoutMs, 'connect');
    result.connectMs = +(performance.now() - t0).toFixed(3);
    result.remoteId = conn.remoteId().toString();
    if (o.watchPaths) watchSelectedPath(conn, performance.now());
    const alpn = Buffer.from(conn.alpn()).toString('utf8');
    if (result.remoteId !== addr.id().toString()) throw new Error(`remote id ${result.remoteId} is not the one dialed`);
    if (alpn !== o.alpn) throw new Error(`negotiated ALPN ${alpn}, want ${o.alpn}`);
    result.remoteAddr = await withTimeout(remoteInfo(ep, addr.id()), o.timeoutMs, 'remote info');
    if (o.listen) {
      await runListener(o, conn, result);
      await finish(0);
      return;
    }
    if (o.oversize) await runOversize(o, conn, result);
    else await runSender(o, conn, result);
    if (!o.oversize) result.paths = pathsOf(conn);
    result.ok = true;
  } catch (err) {
    result.error = String(err?.message ?? err);
    if (o.listen) {
      out({ event: 'error', error: result.error });
      await finish(1);
      return;
    }
  }
  out(result);
  await finish(result.ok ? 0 : 1);
}

main().catch((err) => {
  out({ ok: false, echoes: 0, broadcasts: 0, connectMs: null, rttMs: null, error: String(err) });
  process.exit(1);
});
