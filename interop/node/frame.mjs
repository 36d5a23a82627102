// Framing shared by hub.mjs and spoke.mjs:
//   [u32 big-endian length N][N bytes of UTF-8 JSON {"type","id","payload"}]
//
// The iroh binding passes bytes as Array<number>, and RecvStream.read(n)
// returns [] once the peer has finished its side (FIN).

export const MAX_FRAME = 16 * 1024 * 1024;
const READ_CHUNK = 64 * 1024;

export class FrameTooLargeError extends Error {
  constructor(len, max) {
    super(`frame of ${len} bytes exceeds limit of ${max}`);
    this.name = 'FrameTooLargeError';
    this.len = len;
  }
}

export class TruncatedFrameError extends Error {
  constructor(have, want) {
    super(`stream ended inside a frame (${have} of ${want} bytes)`);
    this.name = 'TruncatedFrameError';
  }
}

// FrameReader pulls whole frames out of a RecvStream, however the peer's
// writes were split or coalesced by QUIC.
export class FrameReader {
  constructor(recv, maxFrame = MAX_FRAME) {
    this.recv = recv;
    this.max = maxFrame;
    this.buf = Buffer.alloc(0);
    this.eof = false;
  }

  // next resolves to {body: Buffer, frame: Buffer} (frame = header + body),
  // or null on a clean end of stream between frames.
  async next() {
    for (;;) {
      if (this.buf.length >= 4) {
        const len = this.buf.readUInt32BE(0);
        if (len > this.max) throw new FrameTooLargeError(len, this.max);
        if (this.buf.length >= 4 + len) {
          const frame = this.buf.subarray(0, 4 + len);
          this.buf = this.buf.subarray(4 + len);
          return { frame: Buffer.from(frame), body: Buffer.from(frame.subarray(4)) };
        }
      }
      if (this.eof) {
        if (this.buf.length === 0) return null;
        const want = this.buf.length >= 4 ? this.buf.readUInt32BE(0) + 4 : 4;
        throw new TruncatedFrameError(this.buf.length, want);
      }
      const chunk = await this.recv.read(READ_CHUNK);
      if (!chunk || chunk.length === 0) {
        this.eof = true;
        continue;
      }
      this.buf = this.buf.length === 0 ? Buffer.from(chunk) : Buffer.concat([this.buf, Buffer.from(chunk)]);
    }
  }
}

// encodeFrame turns an envelope object (or ready-made JSON bytes) into one frame.
export function encodeFrame(msg) {
  const body = Buffer.isBuffer(msg) ? msg : Buffer.from(JSON.stringify(msg), 'utf8');
  const frame = Buffer.alloc(4 + body.length);
  frame.writeUInt32BE(body.length, 0);
  body.copy(frame, 4);
  return frame;
}

// FrameWriter serialises writes so that concurrent senders (echo and fan-out
// from other connections) never interleave bytes of different frames.
export class FrameWriter {
  constructor(send) {
    this.send = send;
    this.tail = Promise.resolve();
    this.failed = null;
  }

  // writeFrame queues a complete frame (Buffer incl. header).
  writeFrame(frame) {
    const p = this.tail.then(async () => {
      if (this.failed) throw this.failed;
      try {
        await this.send.writeAll(Array.from(frame));
      } catch (err) {
        this.failed = err;
        throw err;
      }
    });
    this.tail = p.catch(() => {});
    return p;
  }

  write(msg) {
    return this.writeFrame(encodeFrame(msg));
  }

  // finish waits for queued frames, then sends FIN.
  async finish() {
    await this.tail;
    if (!this.failed) await this.send.finish();
  }
}

export class EnvelopeError extends Error {
  constructor(message, id) {
    super(message);
    this.name = 'EnvelopeError';
    this.id = id;
  }
}

// parseEnvelope validates a frame body: a JSON object with a non-empty string
// "type", an optional string/number "id" and any "payload".
export function parseEnvelope(body) {
  let text;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(body);
  } catch {
    throw new EnvelopeError('frame body is not valid UTF-8', null);
  }
  let msg;
  try {
    msg = JSON.parse(text);
  } catch (err) {
    throw new EnvelopeError(`invalid JSON: ${err.message}`, null);
  }
  if (msg === null || typeof msg !== 'object' || Array.isArray(msg)) {
    throw new EnvelopeError('envelope must be a JSON object', null);
  }
  const id = typeof msg.id === 'string' || typeof msg.id === 'number' ? msg.id : null;
  if (msg.id !== undefined && msg.id !== null && id === null) {
    throw new EnvelopeError('envelope "id" must be a string or number', null);
  }
  if (typeof msg.type !== 'string' || msg.type.length === 0) {
    throw new EnvelopeError('envelope "type" must be a non-empty string', id);
  }
  return { type: msg.type, id: msg.id ?? null, payload: msg.payload ?? null };
}

export const utf8 = (s) => Array.from(Buffer.from(s, 'utf8'));

// parseArgs turns ["--a", "1", "--flag"] into {a: "1", flag: true}; repeated
// flags accumulate into arrays.
export function parseArgs(argv, booleans = []) {
  const out = {};
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (!arg.startsWith('--')) throw new Error(`unexpected argument ${arg}`);
    let key = arg.slice(2);
    let val;
    const eq = key.indexOf('=');
    if (eq >= 0) {
      val = key.slice(eq + 1);
      key = key.slice(0, eq);
    } else if (booleans.includes(key)) {
      val = true;
    } else {
      if (i + 1 >= argv.length) throw new Error(`missing value for --${key}`);
      val = argv[++i];
    }
    if (key in out) out[key] = [].concat(out[key], val);
    else out[key] = val;
  }
  return out;
}

// log writes one JSON line to stderr.
export function makeLogger(component) {
  return (level, msg, fields = {}) => {
    process.stderr.write(JSON.stringify({ t: new Date().toISOString(), level, component, msg, ...fields }) + '\n');
  };
}
