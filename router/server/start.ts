// Starting and stopping the router: build the state, listen, reload on configuration changes, and on
// shutdown stop accepting, let requests in flight finish (bounded), then close the tier clients.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import pino, { type Logger } from 'pino';
import { watchConfigFile } from '../config/watch.js';
import type { RouterConfig } from '../config/schema.js';
import { RouterMetrics } from '../metrics/router-metrics.js';
import { createTierClient } from '../upstream/tier-client.js';
import { createRouterApp } from './app.js';
import { prepareRouting } from './routing.js';
import { RoutingModelLoader } from './routing-models.js';
import { buildState, retireWhenIdle, type RouterState, type TierClientFactory } from './state.js';

export interface StartRouterOptions {
  config: RouterConfig;
  /** When given, the file is watched and each valid new version is applied without a restart. */
  configFile?: string;
  /** Overrides of config.server.host/port (e.g. port 0 in tests). */
  host?: string;
  port?: number;
  logger?: Logger;
  metrics?: RouterMetrics;
  makeClient?: TierClientFactory;
  watchIntervalMs?: number;
  /** Active health checks of replicas (default on). */
  healthChecks?: boolean;
}

export interface RunningRouter {
  url: string;
  port: number;
  server: Server;
  metrics: RouterMetrics;
  getState(): RouterState;
  /**
   * Apply a new configuration (what the file watcher calls): models are loaded first, then the state is swapped
   * at once. Rejects, keeping the current state, if it cannot be applied. Reloads run one at a time, in order.
   */
  reload(config: RouterConfig): Promise<void>;
  close(): Promise<void>;
}

export function defaultLogger(level = process.env.TIERMIX_LOG_LEVEL ?? 'info'): Logger {
  return pino({ name: 'tiermix-router', level, redact: ['req.headers.authorization', 'headers.authorization', 'apiKeys'] });
}

export async function startRouter(opts: StartRouterOptions): Promise<RunningRouter> {
  const logger = opts.logger ?? defaultLogger();
  const metrics = opts.metrics ?? new RouterMetrics();
  const hooks = metrics.upstreamHooks();
  const makeClient: TierClientFactory =
    opts.makeClient ??
    ((tier, retry) =>
      createTierClient(tier, retry, { hooks, logger, healthCheck: opts.healthChecks === false ? false : { intervalSeconds: 5, path: '/health' } }));

  // POMDP models and classifier sessions are loaded here, before the server listens (and on reload before the swap).
  const loader = new RoutingModelLoader();
  const source = opts.configFile ?? 'configuration';
  let state = buildState(opts.config, makeClient, undefined, process.env, await prepareRouting(opts.config, loader, undefined, source)).state;
  let accepting = true;
  const maxRequestMs = () => Math.max(...state.config.cascades.flatMap((c) => c.tiers.map((t) => t.timeouts.requestSeconds))) * 1000;

  const app = createRouterApp({ getState: () => state, metrics, logger, accepting: () => accepting });
  const server = createServer(app);
  // Longer than common load balancer idle timeouts, so the LB closes idle connections first.
  server.keepAliveTimeout = 65_000;
  server.headersTimeout = 66_000;
  server.requestTimeout = 0; // cascades can take minutes; tier timeouts bound them instead
  // Requests Node's HTTP parser refuses (oversized headers, malformed HTTP) never reach express;
  // answer them in the OpenAI error shape too.
  server.on('clientError', (err: NodeJS.ErrnoException, socket) => {
    if (!socket.writable) return socket.destroy();
    const tooLarge = err.code === 'HPE_HEADER_OVERFLOW';
    const status = tooLarge ? '431 Request Header Fields Too Large' : '400 Bad Request';
    const body = JSON.stringify({
      error: {
        message: tooLarge ? 'Request headers are too large.' : 'Malformed HTTP request.',
        type: 'invalid_request_error',
        param: null,
        code: tooLarge ? 'headers_too_large' : 'invalid_http',
      },
    });
    socket.end(`HTTP/1.1 ${status}\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`);
  });

  const apply = async (config: RouterConfig) => {
    if (config.server.port !== state.config.server.port || config.server.host !== state.config.server.host) {
      logger.warn('server.host/port changed: takes effect on restart');
    }
    const routing = await prepareRouting(config, loader, state.routing, source);
    const next = buildState(config, makeClient, state, process.env, routing);
    state = next.state;
    void retireWhenIdle(next.retired, maxRequestMs());
    metrics.configReloads.inc({ result: 'ok' });
    logger.info({ cascades: config.cascades.map((c) => c.name), retiredClients: next.retired.length }, 'configuration reloaded');
  };
  // One reload at a time, in the order they were asked for; a failed one does not block the next.
  let reloading: Promise<void> = Promise.resolve();
  const reload = (config: RouterConfig): Promise<void> => {
    const run = reloading.then(() => apply(config));
    reloading = run.catch(() => {});
    return run;
  };

  const stopWatching = opts.configFile
    ? watchConfigFile(
        opts.configFile,
        {
          onChange: (config) => {
            reload(config).catch((err: unknown) => {
              metrics.configReloads.inc({ result: 'error' });
              logger.error({ err: (err as Error).message }, 'configuration not applied; keeping the current one');
            });
          },
          onError: (err) => {
            metrics.configReloads.inc({ result: 'error' });
            logger.error({ problems: err.problems }, 'invalid configuration; keeping the current one');
          },
        },
        opts.watchIntervalMs,
      )
    : () => {};

  const host = opts.host ?? opts.config.server.host;
  const port = opts.port ?? opts.config.server.port;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve());
  });
  const actualPort = (server.address() as AddressInfo).port;
  const url = `http://${host.includes(':') ? `[${host}]` : host}:${actualPort}`;
  logger.info({ url, cascades: state.config.cascades.map((c) => `${c.name}: ${c.tiers.map((t) => t.name).join(' -> ')}`) }, 'tiermix router listening');

  let closing: Promise<void> | null = null;
  const close = () => {
    closing ??= (async () => {
      accepting = false;
      stopWatching();
      const graceMs = state.config.server.shutdownGraceSeconds * 1000;
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeIdleConnections();
      const timer = setTimeout(() => server.closeAllConnections(), graceMs);
      timer.unref();
      await closed;
      clearTimeout(timer);
      for (const client of state.clientsByKey.values()) client.close();
    })();
    return closing;
  };

  return { url, port: actualPort, server, metrics, getState: () => state, reload, close };
}
