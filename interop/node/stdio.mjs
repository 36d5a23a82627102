// stdio.mjs keeps the scripts' stdout protocol (ready/result/frame lines)
// clean when iroh logging is on.
//
// The binding's Rust logger writes to fd 1. So with a log level other than
// Off, a script re-runs itself as a child whose fd 1 is our stderr, and the
// child hands its protocol lines back on fd 3; the parent copies them to
// its real stdout, forwards SIGTERM/SIGINT and exits with the child's code.
import { spawn } from 'node:child_process';
import { writeSync } from 'node:fs';

const CHILD_ENV = 'IROHSPOKE_LOG_CHILD';
const RESULT_FD = 3;
const isChild = process.env[CHILD_ENV] === '1';

// superviseIfLogging starts the child and returns true when this process
// should only supervise; the caller must then do nothing else.
export function superviseIfLogging(logLevel) {
  if (isChild || !logLevel || logLevel === 'Off') return false;
  const child = spawn(process.execPath, [...process.execArgv, ...process.argv.slice(1)], {
    // stdin is a pipe only so the child notices when we die (EOF).
    stdio: ['pipe', 2, 2, 'pipe'],
    env: { ...process.env, [CHILD_ENV]: '1' },
  });
  child.stdio[RESULT_FD].pipe(process.stdout);
  for (const sig of ['SIGTERM', 'SIGINT']) process.on(sig, () => child.kill(sig));
  child.on('close', (code, signal) => {
    process.exitCode = code ?? (signal === 'SIGKILL' ? 137 : 1);
  });
  return true;
}

if (isChild) {
  // The supervisor is gone (e.g. SIGKILL): do not linger.
  process.stdin.on('end', () => process.exit(1));
  process.stdin.resume();
}

// The fd 3 pipe may be non-blocking; wait briefly and retry on EAGAIN.
function writeAllSync(fd, buf) {
  const pause = new Int32Array(new SharedArrayBuffer(4));
  for (let off = 0; off < buf.length;) {
    try {
      off += writeSync(fd, buf, off);
    } catch (err) {
      if (err.code !== 'EAGAIN') throw err;
      Atomics.wait(pause, 0, 0, 1);
    }
  }
}

// emitLine writes one protocol line (an object, JSON-encoded) to stdout, or
// to the supervisor when running as a logging child.
export function emitLine(obj) {
  const line = JSON.stringify(obj) + '\n';
  if (isChild) writeAllSync(RESULT_FD, Buffer.from(line, 'utf8'));
  else process.stdout.write(line);
}
