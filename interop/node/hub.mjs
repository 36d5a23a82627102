// hub.mjs: a real iroh 1.0 hub (via @number0/iroh) for interop tests.
//
// Every spoke opens one bidirectional stream. Each envelope is echoed back as
// {type: type + ".echo", id, payload}, and the original frame bytes are
// forwarded unchanged to every other spoke whose stream is open.
//
// stdout: exactly one ready line {"endpointId","addrs","relayUrl","ticket"}.
// stderr: JSON log lines. SIGTERM/SIGINT: graceful close, exit 0.
//
// Run it only inside a network namespace with nothing but loopback: iroh's
// port mapper otherwise probes the default gateway.
import iroh from '@number0/iroh';
import {
  FrameReader, FrameWriter, FrameTooLargeError, EnvelopeError, MAX_FRAME,
  parseEnvelope, parseArgs, makeLogger, utf8,
} from './frame.mjs';
import { emitLine, superviseIfLogging } from './stdio.mjs';

const { Endpoint, EndpointTicket, RelayMap, RelayMode, presetMinimal, setLogLevel } = iroh;

const ALPN = 'alkpubsub/1';
const DEFAULT_ONLINE_TIMEOUT_MS = 10_000;
const SHUTDOWN_GRACE_MS = 3_000;
// Application close codes the hub uses.
const CLOSE_OK = 0n;
const CLOSE_FRAME_TOO_LARGE = 1n;
const CLOSE_PROTOCOL = 2n;

const log = makeLogger('hub');

function usage(msg) {
  process.stderr.write(`hub.mjs: ${msg}\n` +
    'usage: node hub.mjs [--bind IP:PORT] [--secret-hex HEX] [--relay URL] [--online-timeout-ms MS]\n' +
    '                   [--log-level LEVEL]\n');
  process.exit(2);
}

function parseSecret(hex) {
  if (!/^[0-9a-fA-F]{64}$/.test(hex)) usage('--secret-hex must be 64 hex characters');
  return Array.from(Buffer.from(hex, 'hex'));
}

async function bindEndpoint(opts) {
  const b = Endpoint.builder();
  presetMinimal(b);
  b.alpns([utf8(ALPN)]);
  b.bindAddr(opts.bind);
  if (opts.secret) b.secretKey(opts.secret);
  if (opts.relay) {
    // A custom map with only our relay and no QUIC port, so iroh does not
    // try QUIC address discovery against it.
    const map = RelayMap.empty();
    map.insert({ url: opts.relay });
    b.relayMode(RelayMode.custom(map));
  } else {
    b.relayMode(RelayMode.disabled());
  }
  return b.bind();
}

// readyAddr polls ep.addr() (watchAddr aborts the process in this binding)
// until direct addresses are known.
async function readyAddr(ep, wantRelay, onlineTimeoutMs) {
  const deadline = Date.now() + (wantRelay ? onlineTimeoutMs : 2_000);
  if (wantRelay) {
    let timer;
    const timeout = new Promise((resolve) => { timer = setTimeout(resolve, onlineTimeoutMs, 'timeout'); });
    const res = await Promise.race([ep.online().then(() => 'online'), timeout]);
    clearTimeout(timer);
    if (res !== 'online') log('warn', 'relay not online before timeout; ready line has no relay');
  }
  for (;;) {
    const addr = ep.addr();
    if (addr.directAddresses().length > 0 || Date.now() > deadline) return addr;
    await new Promise((r) => setTimeout(r, 20));
  }
}

class Hub {
  constructor(ep) {
    this.ep = ep;
    this.conns = new Set(); // every live connection, stream or not
    this.spokes = new Map(); // connection -> {remote, writer}
    this.closing = false;
  }

  async acceptLoop() {
    for (;;) {
      let inc;
      try {
        inc = await this.ep.acceptNext();
      } catch (err) {
        if (!this.closing) log('error', 'acceptNext failed', { error: String(err) });
        return;
      }
      if (!inc) return;
      this.handleIncoming(inc).catch((err) => {
        if (!this.closing) log('warn', 'connection ended with error', { error: String(err) });
      });
    }
  }

  async handleIncoming(inc) {
    const accepting = await inc.accept();
    const conn = await accepting.connect();
    const remote = conn.remoteId().toString();
    const alpn = Buffer.from(conn.alpn()).toString('utf8');
    if (this.closing) {
      conn.close(CLOSE_OK, utf8('hub shutting down'));
      return;
    }
    this.conns.add(conn);
    log('info', 'connection', { remote, alpn });
    conn.closed().then((reason) => {
      log('info', 'connection closed', { remote, reason });
    }).catch(() => {}).finally(() => {
      this.conns.delete(conn);
      this.spokes.delete(conn);
    });

    const bi = await conn.acceptBi();
    const writer = new FrameWriter(bi.send);
    this.spokes.set(conn, { remote, writer });
    log('info', 'stream opened', { remote });
    await this.serveStream(conn, remote, new FrameReader(bi.recv, MAX_FRAME), writer);
  }

  async serveStream(conn, remote, reader, writer) {
    for (;;) {
      let got;
      try {
        got = await reader.next();
      } catch (err) {
        if (err instanceof FrameTooLargeError) {
          log('warn', 'frame too large, closing connection', { remote, len: err.len });
          this.spokes.delete(conn);
          conn.close(CLOSE_FRAME_TOO_LARGE, utf8(`frame too large (max ${MAX_FRAME})`));
          return;
        }
        throw err;
      }
      if (got === null) {
        // The spoke finished sending; it may still be listening for
        // fan-out, so its entry stays until the connection closes.
        log('info', 'stream finished by spoke', { remote });
        return;
      }
      let env;
      try {
        env = parseEnvelope(got.body);
      } catch (err) {
        if (!(err instanceof EnvelopeError)) throw err;
        log('warn', 'malformed frame', { remote, error: err.message });
        writer.write({ type: 'error', id: err.id ?? null, payload: { error: err.message } })
          .catch((e) => this.dropSpoke(conn, remote, e));
        continue;
      }
      writer.write({ type: `${env.type}.echo`, id: env.id, payload: env.payload })
        .catch((e) => this.dropSpoke(conn, remote, e));
      this.forward(conn, got.frame);
    }
  }

  forward(from, frame) {
    for (const [conn, spoke] of this.spokes) {
      if (conn === from) continue;
      spoke.writer.writeFrame(frame).catch((e) => this.dropSpoke(conn, spoke.remote, e));
    }
  }

  dropSpoke(conn, remote, err) {
    if (this.spokes.delete(conn) && !this.closing) {
      log('warn', 'write to spoke failed; dropped from fan-out', { remote, error: String(err) });
    }
  }

  async shutdown(signal) {
    if (this.closing) return;
    this.closing = true;
    log('info', 'shutting down', { signal, connections: this.conns.size });
    for (const conn of this.conns) {
      try {
        conn.close(CLOSE_OK, utf8('hub shutting down'));
      } catch (err) {
        log('warn', 'close failed', { error: String(err) });
      }
    }
    const guard = setTimeout(() => {
      log('warn', 'endpoint close timed out');
      process.exit(0);
    }, SHUTDOWN_GRACE_MS);
    try {
      await this.ep.close();
    } catch (err) {
      log('warn', 'endpoint close failed', { error: String(err) });
    }
    clearTimeout(guard);
    process.exit(0);
  }
}

async function main() {
  let args;
  try {
    args = parseArgs(process.argv.slice(2));
  } catch (err) {
    usage(err.message);
  }
  for (const k of Object.keys(args)) {
    if (!['bind', 'secret-hex', 'relay', 'online-timeout-ms', 'log-level'].includes(k)) usage(`unknown flag --${k}`);
  }
  if (superviseIfLogging(args['log-level'])) return;
  if (args['log-level']) setLogLevel(args['log-level']);
  const opts = {
    bind: args.bind ?? '127.0.0.1:0',
    secret: args['secret-hex'] ? parseSecret(args['secret-hex']) : null,
    relay: args.relay ?? null,
    // How long to wait for the relay before printing the ready line anyway.
    onlineTimeoutMs: Number(args['online-timeout-ms'] ?? DEFAULT_ONLINE_TIMEOUT_MS),
  };
  if (!Number.isInteger(opts.onlineTimeoutMs) || opts.onlineTimeoutMs < 0) usage('bad --online-timeout-ms');

  const t0 = performance.now();
  const ep = await bindEndpoint(opts);
  const hub = new Hub(ep);
  process.on('SIGTERM', () => hub.shutdown('SIGTERM'));
  process.on('SIGINT', () => hub.shutdown('SIGINT'));

  const addr = await readyAddr(ep, Boolean(opts.relay), opts.onlineTimeoutMs);
  const ready = {
    endpointId: ep.id().toString(),
    addrs: addr.directAddresses(),
    relayUrl: addr.relayUrl() ?? null,
    ticket: EndpointTicket.fromAddr(addr).toString(),
  };
  log('info', 'ready', { bindMs: +(performance.now() - t0).toFixed(1), boundSockets: ep.boundSockets() });
  emitLine(ready);
  await hub.acceptLoop();
  if (!hub.closing) {
    log('error', 'accept loop ended unexpectedly');
    process.exit(1);
  }
}

main().catch((err) => {
  log('error', 'fatal', { error: String(err?.stack ?? err) });
  process.exit(1);
});
