// Load generators: an open-loop paced client for latency at a fixed rate, and autocannon (closed loop)
// for the most requests per second.
//
// Why not autocannon's overallRate for the fixed rate: autocannon gives each connection a quota per
// second and lets it send that quota back to back at the start of every second, then pause. At 500
// req/s that is a burst each second, and the latencies measure the queue the burst builds, not the cost
// of one request at a steady 500 req/s. The paced client sends one request every 2 ms (open loop, on
// keep-alive connections) and times each from its scheduled send time, so a slow response cannot hide the
// delay it causes to the next ones (no coordinated omission).
import http from 'node:http';
import { performance } from 'node:perf_hooks';
import autocannon, { type AutocannonRequest, type AutocannonResult } from 'autocannon';

export interface LatencySummary {
  count: number;
  p50: number;
  p90: number;
  p99: number;
  mean: number;
  max: number;
}

export function summarize(values: ArrayLike<number>): LatencySummary {
  const sorted = Float64Array.from(values).sort();
  const n = sorted.length;
  if (n === 0) return { count: 0, p50: NaN, p90: NaN, p99: NaN, mean: NaN, max: NaN };
  // Nearest-rank percentile.
  const pct = (p: number) => sorted[Math.min(n - 1, Math.max(0, Math.ceil((p / 100) * n) - 1))]!;
  let sum = 0;
  for (const v of sorted) sum += v;
  return { count: n, p50: pct(50), p90: pct(90), p99: pct(99), mean: sum / n, max: sorted[n - 1]! };
}

export interface PacedOptions {
  url: string;
  body: string;
  /** Requests per second. */
  rate: number;
  /** Sent at the same rate on the same connections before the measured part, and not recorded. */
  warmupMs?: number;
  durationMs: number;
  /** Per-request limit; a request still unanswered after it counts as a timeout. */
  timeoutMs?: number;
  maxSockets?: number;
}

export interface PacedResult {
  scheduled: number;
  ok: number;
  non2xx: number;
  errors: number;
  timeouts: number;
  /** Completed responses per second of wall time. */
  achievedRate: number;
  /** From the scheduled send time to the last byte of the response (ms). */
  latency: LatencySummary;
  /** How late the client sent requests against the schedule (ms): how much the client itself lagged. */
  sendLag: LatencySummary;
  /** The first response body, to check it is a completion. */
  sample: string;
  /** Every measured latency (ms), for pooling rounds; left out of the report. */
  raw: Float64Array;
}

/** Open-loop load at a fixed rate; every request bounded by timeoutMs, the whole run by durationMs + timeoutMs. */
export function pacedLoad(opts: PacedOptions): Promise<PacedResult> {
  const timeoutMs = opts.timeoutMs ?? 10_000;
  const u = new URL(opts.url);
  const body = Buffer.from(opts.body);
  const agent = new http.Agent({ keepAlive: true, maxSockets: opts.maxSockets ?? 256, scheduling: 'lifo' });
  const interval = 1000 / opts.rate;
  const warmup = Math.floor(((opts.warmupMs ?? 0) / 1000) * opts.rate);
  const measured = Math.floor((opts.durationMs / 1000) * opts.rate);
  const total = warmup + measured;
  const latencies = new Float64Array(measured);
  const lags = new Float64Array(measured);
  let latencyCount = 0;
  let sent = 0;
  let done = 0;
  let sample = '';

  return new Promise((resolve) => {
    const start = performance.now();
    const measureFrom = start + warmup * interval;
    let ticker: NodeJS.Timeout | undefined;
    let lastDoneAt = start;
    let ok = 0;
    let non2xx = 0;
    let errors = 0;
    let timeouts = 0;
    let lagCount = 0;

    const finish = () => {
      clearInterval(ticker);
      clearTimeout(hardStop);
      agent.destroy();
      const wall = (lastDoneAt - measureFrom) / 1000;
      resolve({
        scheduled: measured,
        ok,
        non2xx,
        errors,
        timeouts,
        achievedRate: wall > 0 ? (ok + non2xx) / wall : 0,
        latency: summarize(latencies.subarray(0, latencyCount)),
        sendLag: summarize(lags.subarray(0, lagCount)),
        sample,
        raw: latencies.slice(0, latencyCount),
      });
    };
    // Bound the whole run even if some request never settles.
    const hardStop = setTimeout(() => {
      timeouts += Math.min(measured, total - done);
      done = total;
      finish();
    }, (opts.warmupMs ?? 0) + opts.durationMs + timeoutMs + 5000);

    const settle = () => {
      done++;
      lastDoneAt = performance.now();
      if (done === total) finish();
    };

    const fire = (scheduledAt: number) => {
      const counted = sent++ >= warmup;
      if (counted) lags[lagCount++] = performance.now() - scheduledAt;
      let settled = false;
      const req = http.request(
        {
          host: u.hostname,
          port: u.port,
          path: u.pathname,
          method: 'POST',
          agent,
          headers: { 'content-type': 'application/json', 'content-length': body.length },
        },
        (res) => {
          const chunks: Buffer[] = [];
          const keepSample = sample === '';
          res.on('data', (d: Buffer) => {
            if (keepSample) chunks.push(d);
          });
          res.on('end', () => {
            if (settled) return;
            settled = true;
            const status = res.statusCode ?? 0;
            if (keepSample && sample === '') sample = Buffer.concat(chunks).toString();
            if (counted) {
              if (status >= 200 && status < 300) {
                ok++;
                latencies[latencyCount++] = performance.now() - scheduledAt;
              } else non2xx++;
            }
            settle();
          });
        },
      );
      req.setTimeout(timeoutMs, () => {
        if (settled) return;
        settled = true;
        if (counted) timeouts++;
        req.destroy();
        settle();
      });
      req.on('error', () => {
        if (settled) return;
        settled = true;
        if (counted) errors++;
        settle();
      });
      req.end(body);
    };

    // A 1 ms ticker sends every request whose time has come (catching up if the event loop was late).
    ticker = setInterval(() => {
      const now = performance.now();
      while (sent < total && start + sent * interval <= now) fire(start + sent * interval);
      if (sent >= total) clearInterval(ticker);
    }, 1);
  });
}

export interface CannonOptions {
  url: string;
  connections: number;
  durationSeconds: number;
  requests: AutocannonRequest[];
  timeoutSeconds?: number;
}

export interface CannonSummary {
  connections: number;
  durationSeconds: number;
  /** Mean completed requests per second (2xx and others). */
  reqPerSec: number;
  total2xx: number;
  non2xx: number;
  errors: number;
  timeouts: number;
  /** autocannon's latency histogram (whole milliseconds). */
  latencyMs: { p50: number; p99: number; mean: number; max: number };
  statusCodes: Record<string, number>;
}

/** Closed-loop load: `connections` keep-alive connections, each sending its next request as soon as the last returns. */
export function cannon(opts: CannonOptions): Promise<CannonSummary> {
  return new Promise((resolve, reject) => {
    const instance = autocannon(
      {
        url: opts.url,
        connections: opts.connections,
        duration: opts.durationSeconds,
        timeout: opts.timeoutSeconds ?? 10,
        requests: opts.requests,
      },
      (err: Error | null, r: AutocannonResult) => {
        clearTimeout(guard);
        if (err) return reject(err);
        const statusCodes = Object.fromEntries(Object.entries(r.statusCodeStats ?? {}).map(([k, v]) => [k, Number(v.count)]));
        resolve({
          connections: opts.connections,
          durationSeconds: r.duration,
          reqPerSec: r.requests.average,
          total2xx: r['2xx'],
          non2xx: r.non2xx,
          errors: r.errors,
          timeouts: r.timeouts,
          latencyMs: { p50: r.latency.p50, p99: r.latency.p99, mean: r.latency.average, max: r.latency.max },
          statusCodes,
        });
      },
    );
    // autocannon stops itself after `duration`; this guard bounds it if it ever does not.
    const guard = setTimeout(() => instance.stop(), (opts.durationSeconds + (opts.timeoutSeconds ?? 10) + 10) * 1000);
  });
}
