// The controller's HTTP endpoints: /metrics (Prometheus) and /healthz, /readyz (kubelet probes), plus optional
// read-only JSON routes beside /metrics (the local runtime's /cascades, its stand-in for `kubectl get`). One server
// when the metrics and health ports are the same, else two.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Registry } from 'prom-client';

export interface ProbeState {
  /** Liveness: false only when the process should be restarted. */
  healthy(): boolean;
  /** Readiness: caches synced. */
  ready(): boolean;
}

export interface ControllerHttp {
  metricsPort: number;
  healthPort: number;
  close(): Promise<void>;
}

/** Path -> the value to serve as JSON (read at each request). */
export type JsonRoutes = Record<string, () => unknown>;

function handler(routes: { metrics?: Registry; probes?: ProbeState; json?: JsonRoutes }): http.RequestListener {
  return (req, res) => {
    const path = (req.url ?? '/').split('?')[0] ?? '/';
    const reply = (code: number, body: string, type = 'text/plain; charset=utf-8') => {
      res.writeHead(code, { 'content-type': type });
      res.end(body);
    };
    if (req.method !== 'GET' && req.method !== 'HEAD') return reply(405, 'method not allowed\n');
    if (path === '/metrics' && routes.metrics) {
      const registry = routes.metrics;
      registry.metrics().then(
        (text) => reply(200, text, registry.contentType),
        (err: unknown) => reply(500, `${String(err)}\n`),
      );
      return;
    }
    const json = routes.json && Object.hasOwn(routes.json, path) ? routes.json[path] : undefined;
    if (json) return reply(200, `${JSON.stringify(json(), null, 2)}\n`, 'application/json; charset=utf-8');
    if (path === '/healthz' && routes.probes) return routes.probes.healthy() ? reply(200, 'ok\n') : reply(503, 'unhealthy\n');
    if (path === '/readyz' && routes.probes) return routes.probes.ready() ? reply(200, 'ok\n') : reply(503, 'caches not synced\n');
    reply(404, 'not found\n');
  };
}

async function listen(server: http.Server, host: string, port: number): Promise<number> {
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  return (server.address() as AddressInfo).port;
}

export async function startControllerHttp(opts: {
  host: string;
  metricsPort: number;
  healthPort: number;
  registry: Registry;
  probes: ProbeState;
  /** Served with /metrics. */
  json?: JsonRoutes;
}): Promise<ControllerHttp> {
  const servers: http.Server[] = [];
  let metricsPort: number;
  let healthPort: number;
  if (opts.metricsPort === opts.healthPort && opts.metricsPort !== 0) {
    const s = http.createServer(handler({ metrics: opts.registry, probes: opts.probes, ...(opts.json ? { json: opts.json } : {}) }));
    servers.push(s);
    metricsPort = healthPort = await listen(s, opts.host, opts.metricsPort);
  } else {
    const m = http.createServer(handler({ metrics: opts.registry, ...(opts.json ? { json: opts.json } : {}) }));
    const h = http.createServer(handler({ probes: opts.probes }));
    servers.push(m, h);
    metricsPort = await listen(m, opts.host, opts.metricsPort);
    healthPort = await listen(h, opts.host, opts.healthPort);
  }
  return {
    metricsPort,
    healthPort,
    close: async () => {
      await Promise.all(
        servers.map((s) => new Promise<void>((resolve) => {
          s.closeAllConnections();
          s.close(() => resolve());
        })),
      );
    },
  };
}
