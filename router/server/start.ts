// Starting and stopping the router: build the state, listen, reload on configuration changes, and on
// shutdown stop accepting, let requests in flight finish (bounded), then close the tier clients.
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import pino, { type Logger } from 'pino';
import { ConfigError } from '../config/load.js';
import { watchConfigFile } from '../config/watch.js';
import type { RouterConfig } from '../config/schema.js';
import { RouterMetrics } from '../metrics/router-metrics.js';
import { createTierClient } from '../upstream/tier-client.js';
import { createRouterApp } from './app.js';
import { createExpressServer } from './express-http-server.js';
import { prepareRouting } from './routing.js';
import { RoutingModelLoader } from './routing-models.js';
import { TierHolds } from './holds.js';
import { buildState, maxRequestMs, retireWhenIdle, unconfiguredState, type ConfigStatus, type RouterState, type TierClientFactory } from './state.js';

export interface StartRouterOptions {
  /**
   * The configuration to start with. Without one the router starts unconfigured: it listens, /healthz answers, but
   * /readyz is 503 and every model 404 until the watched file gives a valid configuration (--wait-for-config).
   */
  config?: RouterConfig;
  /** When given, the file is watched and each valid new version is applied without a restart. */
  configFile?: string;
  /**
   * The text of configFile that `config` came from (or that was refused, see configError), or null when the file did
   * not exist: the watcher then looks at the file at once, so a version written meanwhile is not missed.
   */
  configFileText?: string | null;
  /** Why the router starts without a configuration (a missing or invalid file), shown by /readyz until one loads. */
  configError?: ConfigError;
  /** A configuration that cannot be applied at start (a POMDP model that does not fit, say) leaves the router
   * unconfigured and waiting for the next version of the file, instead of failing the start. */
  waitForConfig?: boolean;
  /** Overrides of config.server.host/port (e.g. port 0 in tests). */
  host?: string;
  port?: number;
  logger?: Logger;
  metrics?: RouterMetrics;
  makeClient?: TierClientFactory;
  watchIntervalMs?: number;
  /** Active health checks of replicas (default on). */
  healthChecks?: boolean;
  /** What /metrics serves (default: this process's registry); `tiermix router --workers` sums every worker's. */
  metricsText?: () => Promise<string>;
}

export interface RunningRouter {
  url: string;
  port: number;
  server: Server;
  metrics: RouterMetrics;
  getState(): RouterState;
  /** Requests held for tiers with no endpoints (scale from zero). */
  holds: TierHolds;
  configStatus(): ConfigStatus;
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
  // One set of hooks per client: the tier's in-flight gauge sums them (router-metrics.ts).
  const makeClient: TierClientFactory =
    opts.makeClient ??
    ((tier, retry) =>
      createTierClient(tier, retry, {
        hooks: metrics.upstreamHooks(),
        logger,
        healthCheck: opts.healthChecks === false ? false : { intervalSeconds: 5, path: '/health' },
      }));

  // POMDP models and classifier sessions are loaded here, before the server listens (and on reload before the swap).
  const loader = new RoutingModelLoader();
  const source = opts.configFile ?? 'configuration';
  const status: ConfigStatus = { ...(opts.configFile ? { file: opts.configFile } : {}), loaded: false, loadedAt: null, lastError: null };
  const refused = (err: unknown) => {
    const problems = err instanceof ConfigError ? err.problems : [{ path: '(root)', message: (err as Error).message }];
    status.lastError = { at: new Date().toISOString(), problems };
  };
  let state: RouterState = unconfiguredState();
  if (opts.configError) refused(opts.configError);
  if (opts.config) {
    try {
      state = buildState(opts.config, makeClient, undefined, process.env, await prepareRouting(opts.config, loader, undefined, source)).state;
      Object.assign(status, { loaded: true, loadedAt: new Date().toISOString(), lastError: null });
    } catch (err) {
      if (!opts.waitForConfig) throw err;
      refused(err);
      logger.error({ problems: status.lastError!.problems }, 'configuration not applied; waiting for a valid version of the file');
    }
  }
  let accepting = true;
  const holds = new TierHolds(() => state, metrics);

  const app = createRouterApp({
    getState: () => state, metrics, logger, accepting: () => accepting, holds, configStatus: () => status,
    ...(opts.metricsText ? { metricsText: opts.metricsText } : {}),
  });
  const server = createExpressServer(app);
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

  // The listen address is fixed at start (flags first, then the configuration; defaults without one).
  const host = opts.host ?? state.config.server.host;
  const port = opts.port ?? state.config.server.port;
  const apply = async (config: RouterConfig) => {
    if ((opts.host === undefined && config.server.host !== host) || (opts.port === undefined && config.server.port !== port)) {
      logger.warn({ listening: { host, port }, configured: { host: config.server.host, port: config.server.port } }, 'server.host/port differ from the listen address: they take effect on restart');
    }
    const routing = await prepareRouting(config, loader, state.routing, source);
    const previous = state;
    const next = buildState(config, makeClient, previous, process.env, routing);
    state = next.state;
    // Requests held for a tier that now has endpoints go on, on this state's client.
    holds.published();
    void retireWhenIdle(next.retired, maxRequestMs(previous));
    Object.assign(status, { loaded: true, loadedAt: new Date().toISOString(), lastError: null });
    metrics.configReloads.inc({ result: 'ok' });
    if (config.cascades.length === 0) logger.warn('the configuration lists no cascade: every model gets 404 until one is added');
    logger.info({ cascades: config.cascades.map((c) => c.name), retiredClients: next.retired.length }, previous.configured ? 'configuration reloaded' : 'configuration loaded');
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
              refused(err);
              metrics.configReloads.inc({ result: 'error' });
              logger.error({ err: (err as Error).message }, state.configured ? 'configuration not applied; keeping the current one' : 'configuration not applied; still waiting for a valid one');
            });
          },
          onError: (err) => {
            refused(err);
            metrics.configReloads.inc({ result: 'error' });
            logger.error({ problems: err.problems }, state.configured ? 'invalid configuration; keeping the current one' : 'invalid configuration; still waiting for a valid one');
          },
        },
        opts.watchIntervalMs,
        opts.configFileText,
      )
    : () => {};

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve());
  });
  const actualPort = (server.address() as AddressInfo).port;
  const url = `http://${host.includes(':') ? `[${host}]` : host}:${actualPort}`;
  if (state.configured) {
    logger.info({ url, cascades: state.config.cascades.map((c) => `${c.name}: ${c.tiers.map((t) => t.name).join(' -> ')}`) }, 'tiermix router listening');
    if (state.config.cascades.length === 0) logger.warn('the configuration lists no cascade: every model gets 404 until one is added');
  } else {
    logger.info({ url, file: opts.configFile ?? null }, 'tiermix router listening without a configuration: not ready until a valid one is loaded');
  }

  let closing: Promise<void> | null = null;
  const close = () => {
    closing ??= (async () => {
      accepting = false;
      stopWatching();
      // Held requests stop waiting: a warm tier serves them now, within the grace period.
      holds.releaseAll();
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

  return { url, port: actualPort, server, metrics, getState: () => state, holds, configStatus: () => status, reload, close };
}
