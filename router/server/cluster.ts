// `tiermix router --workers N`: N router processes behind one listening port (node:cluster), for the cores one
// Node event loop cannot use.
//
// Why processes: a routed request costs the router well under a millisecond of CPU, but all of it runs on one
// event loop, so one process tops out at one core. node:cluster lets every worker accept on the same port (the
// primary hands out connections round-robin, once per keep-alive connection, not per request).
//
// What stays per worker: the configuration (each worker watches the file and reloads on its own), the tier
// clients and their replica choice, holds, the POMDP's cost estimates and budget controller. What is made
// whole again: /metrics. Any worker answering a scrape asks the primary, which collects every worker's registry
// (prom-client's AggregatorRegistry) and sums them, so counters, histograms and the in-flight gauges the
// controller scales on are the pod's totals, as with one process.
//
// The primary serves nothing itself. It restarts a worker that dies (at most MAX_RESTARTS within a minute;
// beyond that it stops everything and exits 1, so a crash loop is visible to the supervisor), and on SIGTERM or
// SIGINT passes the signal on and exits once every worker has finished its requests in flight.
import cluster, { type Worker } from 'node:cluster';
import { AggregatorRegistry, type Registry } from 'prom-client';

const METRICS_REQ = 'tiermix:metrics-req';
const METRICS_RES = 'tiermix:metrics-res';
const MAX_RESTARTS = 5;
const RESTART_WINDOW_MS = 60_000;

interface MetricsRequest {
  type: typeof METRICS_REQ;
  id: number;
}
interface MetricsResponse {
  type: typeof METRICS_RES;
  id: number;
  text?: string;
  error?: string;
}

export interface ClusterLogger {
  info(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
  error(obj: object, msg: string): void;
}

/** Run in the primary: fork the workers, keep them running, aggregate their metrics, stop them on a signal. */
export function runPrimary(workers: number, logger: ClusterLogger): void {
  const aggregator = new AggregatorRegistry();
  const restarts: number[] = [];
  // Counted here: cluster.workers may still list a worker whose 'exit' has fired.
  const live = new Set<Worker>();
  let stopping = false;
  const signalAll = (signal: NodeJS.Signals) => {
    for (const w of live) w.process.kill(signal);
  };

  const fork = (): Worker => {
    const worker = cluster.fork();
    live.add(worker);
    worker.on('message', (message: unknown) => {
      if ((message as MetricsRequest | null)?.type !== METRICS_REQ) return;
      const { id } = message as MetricsRequest;
      const reply = (r: Omit<MetricsResponse, 'type' | 'id'>) => {
        if (worker.isConnected()) worker.send({ type: METRICS_RES, id, ...r } satisfies MetricsResponse);
      };
      aggregator.clusterMetrics().then(
        (text) => reply({ text }),
        (err: Error) => reply({ error: err.message }),
      );
    });
    return worker;
  };

  cluster.on('exit', (worker, code, signal) => {
    live.delete(worker);
    if (stopping) {
      if (live.size === 0) process.exit(process.exitCode ?? 0);
      return;
    }
    const now = Date.now();
    restarts.push(now);
    while (restarts.length > 0 && restarts[0]! < now - RESTART_WINDOW_MS) restarts.shift();
    if (restarts.length > MAX_RESTARTS) {
      logger.error({ pid: worker.process.pid, code, signal, restarts: restarts.length }, 'router workers keep dying: stopping');
      stopping = true;
      process.exitCode = 1;
      signalAll('SIGTERM');
      if (live.size === 0) process.exit(1);
      return;
    }
    logger.warn({ pid: worker.process.pid, code, signal }, 'router worker exited: starting another');
    fork();
  });

  const stop = (signal: NodeJS.Signals) => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal, workers: live.size }, 'shutting down: workers finish their requests in flight');
    signalAll(signal);
  };
  process.once('SIGTERM', () => stop('SIGTERM'));
  process.once('SIGINT', () => stop('SIGINT'));

  for (let i = 0; i < workers; i++) fork();
  logger.info({ workers }, 'tiermix router primary: started workers');
}

/**
 * Run in a worker: answer the primary's collection requests from `registry`, and return what /metrics serves:
 * every worker's metrics, summed by the primary.
 */
export function workerMetrics(registry: Registry, timeoutMs = 5000): () => Promise<string> {
  // Constructing an AggregatorRegistry in a worker installs prom-client's listener that answers the primary.
  new AggregatorRegistry();
  AggregatorRegistry.setRegistries([registry]);
  let next = 0;
  const pending = new Map<number, { resolve: (text: string) => void; reject: (err: Error) => void; timer: NodeJS.Timeout }>();
  process.on('message', (message: unknown) => {
    const m = message as MetricsResponse | null;
    if (m?.type !== METRICS_RES) return;
    const p = pending.get(m.id);
    if (!p) return;
    pending.delete(m.id);
    clearTimeout(p.timer);
    if (m.error !== undefined || m.text === undefined) p.reject(new Error(`metrics from the other workers: ${m.error ?? 'no answer'}`));
    else p.resolve(m.text);
  });
  return () =>
    new Promise<string>((resolve, reject) => {
      const id = next++;
      const timer = setTimeout(() => {
        pending.delete(id);
        reject(new Error(`metrics from the other workers: no answer within ${timeoutMs} ms`));
      }, timeoutMs);
      pending.set(id, { resolve, reject, timer });
      process.send!({ type: METRICS_REQ, id } satisfies MetricsRequest);
    });
}

/** This process is a worker of `tiermix router --workers N`. */
export const isClusterWorker = (): boolean => cluster.isWorker;
