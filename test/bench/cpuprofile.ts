// Reading a V8 .cpuprofile (node --cpu-prof) into "where the time goes": CPU time by package and by
// component, in two views.
// - self: the function the CPU was in (a syscall such as writev, the GC, node's http internals, a package).
// - attributed: each sample charged to the innermost frame that belongs to a library or to tiermix, so
//   the node-core and syscall work a library asks for is counted for that library (the socket write of a
//   response counts for express, an upstream request's for undici).
import { readFileSync } from 'node:fs';

interface CallFrame {
  functionName: string;
  url: string;
  lineNumber: number;
}
interface ProfileNode {
  id: number;
  callFrame: CallFrame;
  children?: number[];
}
interface CpuProfile {
  nodes: ProfileNode[];
  startTime: number;
  endTime: number;
  samples: number[];
  timeDeltas: number[];
}

export interface Share {
  name: string;
  ms: number;
  /** Share of the busy (non-idle) time in the window, percent. */
  pct: number;
}

export interface ProfileSummary {
  windowMs: number;
  samples: number;
  samplingIntervalMs: number;
  busyMs: number;
  idleMs: number;
  /** Sampled busy milliseconds per request served in the window (when the request count is given). */
  busyMsPerRequest: number | null;
  components: Share[];
  attributed: Share[];
  packages: Share[];
  functions: Share[];
  /** False when the load window could not be located in the profile (then every sample is used). */
  windowed: boolean;
}

const EXPRESS = new Set([
  'express', 'router', 'body-parser', 'raw-body', 'parseurl', 'finalhandler', 'send', 'on-finished', 'type-is', 'content-type',
  'qs', 'iconv-lite', 'debug', 'depd', 'statuses', 'http-errors', 'accepts', 'negotiator', 'mime-types', 'mime-db', 'media-typer',
  'encodeurl', 'escape-html', 'vary', 'cookie', 'cookie-signature', 'fresh', 'etag', 'range-parser', 'proxy-addr', 'forwarded',
  'ipaddr.js', 'path-to-regexp', 'setprototypeof', 'merge-descriptors', 'content-disposition', 'serve-static', 'ee-first', 'unpipe',
  'bytes', 'toidentifier', 'inherits', 'safe-buffer', 'safer-buffer', 'is-promise', 'once', 'wrappy', 'ms',
]);
// The router no longer uses axios (router/upstream/upstream-call.ts); kept for profiles of older builds.
const AXIOS = new Set(['axios', 'follow-redirects', 'form-data', 'proxy-from-env', 'combined-stream', 'asynckit', 'delayed-stream']);
const PINO = new Set([
  'pino', 'sonic-boom', 'pino-std-serializers', 'fast-redact', 'thread-stream', 'atomic-sleep', 'on-exit-leak-free',
  'quick-format-unescaped', 'safe-stable-stringify', 'real-require', 'process-warning', 'pino-abstract-transport', '@pinojs/redact',
]);
const PROM = new Set(['prom-client', 'tdigest', 'bintrees']);

function packageOf(url: string): string | null {
  const m = /node_modules\/((?:@[^/]+\/)?[^/]+)\//.exec(url);
  return m ? m[1]! : null;
}

/** The component a frame belongs to, or null for node core / natives (which the attributed view charges to the caller). */
function libraryComponent(frame: CallFrame): string | null {
  const pkg = packageOf(frame.url);
  if (pkg) {
    if (EXPRESS.has(pkg)) return 'express (router, body-parser, ...)';
    if (AXIOS.has(pkg)) return 'axios';
    if (PINO.has(pkg)) return 'pino';
    if (PROM.has(pkg)) return 'prom-client';
    if (pkg === 'zod') return 'zod';
    return `other package: ${pkg}`;
  }
  if (frame.url.includes('/dist/router/')) {
    const sub = frame.url.split('/dist/router/')[1]!.split('/')[0]!;
    return `tiermix code (${sub}/)`;
  }
  return null;
}

function selfComponent(frame: CallFrame): string {
  const lib = libraryComponent(frame);
  if (lib) return lib;
  const { functionName: fn, url } = frame;
  if (fn === '(garbage collector)') return 'GC';
  if (fn === '(program)') return 'V8 (program)';
  if (url === '' && (fn === 'parse' || fn === 'stringify')) return 'JSON.parse/stringify';
  if (url === '' && /^(writev|writeBuffer|writeUtf8String|writeLatin1String|writeAsciiString|shutdown|close|readStart|readStop|connect|setNoDelay|setKeepAlive)$/.test(fn)) {
    return 'socket syscalls (write, ...)';
  }
  if (url.startsWith('node:') || url.startsWith('internal/')) {
    if (/_http_|node:http\b|llhttp/.test(url)) return 'node http';
    if (/node:net|stream_base|node:internal\/streams|node:stream/.test(url)) return 'node net + streams';
    if (/node:events|event_target|abort_controller/.test(url)) return 'node events + AbortController';
    if (/async_hooks|task_queues|timers|process\//.test(url)) return 'node timers + microtasks';
    return 'node core (other)';
  }
  if (url === '') return `native: ${fn || '(anonymous)'}`;
  return 'other';
}

export function summarizeProfile(file: string, window?: { startUs: number; endUs: number }, requests?: number): ProfileSummary {
  const p = JSON.parse(readFileSync(file, 'utf8')) as CpuProfile;
  const byId = new Map(p.nodes.map((n) => [n.id, n]));
  const parent = new Map<number, number>();
  for (const n of p.nodes) for (const c of n.children ?? []) parent.set(c, n.id);

  // Sample i happens at startTime + sum(timeDeltas[0..i]); its weight is the gap to the next sample.
  const times: number[] = [];
  let t = p.startTime;
  for (const d of p.timeDeltas) times.push((t += d));
  let lo = 0;
  let hi = p.samples.length;
  let windowed = false;
  if (window && times.length > 0 && window.startUs < times[times.length - 1]! && window.endUs > times[0]!) {
    lo = times.findIndex((x) => x >= window.startUs);
    const after = times.findIndex((x) => x > window.endUs);
    hi = after < 0 ? times.length : after;
    windowed = lo >= 0 && hi > lo;
    if (!windowed) {
      lo = 0;
      hi = p.samples.length;
    }
  }

  const component = new Map<string, number>();
  const attributed = new Map<string, number>();
  const packages = new Map<string, number>();
  const functions = new Map<string, number>();
  const add = (m: Map<string, number>, k: string, v: number) => m.set(k, (m.get(k) ?? 0) + v);
  let idle = 0;
  let busy = 0;
  // Each sample weighs one sampling interval (the median gap). Weighting by the gap to the next sample
  // instead would charge the whole time the process was descheduled (other load on the machine) to
  // whatever function happened to be sampled last.
  const gaps = p.timeDeltas.slice(lo, hi).filter((d) => d > 0).sort((a, b) => a - b);
  const intervalMs = (gaps[Math.floor(gaps.length / 2)] ?? 1000) / 1000;
  for (let i = lo; i < hi; i++) {
    const w = intervalMs;
    const leaf = byId.get(p.samples[i]!)!;
    const fn = leaf.callFrame.functionName;
    if (fn === '(idle)') {
      idle += w;
      continue;
    }
    busy += w;
    add(component, selfComponent(leaf.callFrame), w);
    add(packages, packageOf(leaf.callFrame.url) ?? (leaf.callFrame.url.startsWith('node:') ? 'node core' : leaf.callFrame.url === '' ? 'native/V8' : 'tiermix'), w);
    const url = leaf.callFrame.url;
    const where = url.includes('node_modules/') ? url.replace(/^.*node_modules\//, '') : url.replace(/^.*\/dist\//, '');
    add(functions, `${fn || '(anonymous)'} ${where}${where ? `:${leaf.callFrame.lineNumber + 1}` : ''}`, w);
    if (fn === '(garbage collector)' || fn === '(program)') {
      add(attributed, fn === '(program)' ? 'V8 (program)' : 'GC', w);
      continue;
    }
    let id: number | undefined = leaf.id;
    let owner: string | null = null;
    while (id !== undefined && owner === null) {
      const node = byId.get(id)!;
      owner = libraryComponent(node.callFrame);
      id = parent.get(id);
    }
    add(attributed, owner ?? 'node core (no library on the stack)', w);
  }
  const shares = (m: Map<string, number>, limit: number): Share[] =>
    [...m]
      .sort((a, b) => b[1] - a[1])
      .slice(0, limit)
      .map(([name, ms]) => ({ name, ms: Math.round(ms), pct: busy > 0 ? Math.round((1000 * ms) / busy) / 10 : 0 }));
  const windowMs = hi > lo && times.length > 0 ? (times[Math.min(hi, times.length - 1)]! - times[lo]!) / 1000 : 0;
  return {
    windowMs: Math.round(windowMs),
    samples: hi - lo,
    samplingIntervalMs: intervalMs,
    busyMs: Math.round(busy),
    idleMs: Math.round(idle),
    busyMsPerRequest: requests ? busy / requests : null,
    components: shares(component, 16),
    attributed: shares(attributed, 12),
    packages: shares(packages, 12),
    functions: shares(functions, 25),
    windowed,
  };
}
