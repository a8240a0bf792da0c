// The express application: health, readiness, metrics and the OpenAI endpoints, with authentication,
// body limits and OpenAI-shaped errors around them.
import { createHash, timingSafeEqual } from 'node:crypto';
import express, { type NextFunction, type Request, type RequestHandler, type Response } from 'express';
import type { Logger } from 'pino';
import { ApiError, unauthorized } from '../api/errors.js';
import type { RouterMetrics } from '../metrics/router-metrics.js';
import { completionsHandler } from './completions.js';
import { errorMiddleware } from './errors-middleware.js';
import { jsonBody } from './json-body.js';
import { routeHandler } from './route-endpoint.js';
import type { TierHolds } from './holds.js';
import type { ConfigStatus, RouterState } from './state.js';

export interface RouterAppDeps {
  getState: () => RouterState;
  metrics: RouterMetrics;
  logger: Logger;
  /** False while shutting down, so load balancers stop sending traffic. */
  accepting: () => boolean;
  /** Requests held for tiers with no endpoints (scale from zero); without it, no request is held. */
  holds?: TierHolds;
  /** The configuration file's status, for /readyz. */
  configStatus?: () => ConfigStatus;
  /** What /metrics serves (default: this process's registry; under --workers, every worker's summed). */
  metricsText?: () => Promise<string>;
}

const digest = (s: string) => createHash('sha256').update(s).digest();

function authMiddleware(getState: () => RouterState): RequestHandler {
  let cachedFor: Set<string> | null = null;
  let digests: Buffer[] = [];
  return (req, _res, next) => {
    const keys = getState().apiKeys;
    if (keys === null) return next();
    if (cachedFor !== keys) {
      cachedFor = keys;
      digests = [...keys].map(digest);
    }
    const header = req.headers.authorization ?? '';
    const m = /^Bearer\s+(.+)$/i.exec(header);
    // Compare digests in constant time so the key cannot be guessed byte by byte from timings.
    const given = m ? digest(m[1]!.trim()) : null;
    if (given && digests.some((d) => timingSafeEqual(d, given))) return next();
    next(unauthorized());
  };
}

export function createRouterApp(deps: RouterAppDeps): express.Express {
  const { getState, metrics, logger } = deps;
  const app = express();
  app.disable('x-powered-by');
  app.set('etag', false);

  app.use((_req: Request, res: Response, next: NextFunction) => {
    metrics.requestStarted();
    res.on('close', metrics.requestEnded);
    next();
  });

  const auth = authMiddleware(getState);
  const body = jsonBody(getState);
  // The completion endpoints (the hot path) come first, with the key check as their first handler: the
  // same checks in the same order as under app.use('/v1', auth), without express matching the other
  // routes first or re-basing req.url for a mounted middleware on every request. Every other /v1 path
  // still goes through the mounted check below.
  app.post('/v1/chat/completions', auth, body, completionsHandler('chat', getState, metrics, deps.holds));
  app.post('/v1/completions', auth, body, completionsHandler('completion', getState, metrics, deps.holds));

  app.get('/healthz', (_req, res) => {
    res.json({ status: 'ok' });
  });

  // Ready = accepting and a valid configuration is loaded (even one without cascades). Not tied to the tiers' replicas:
  // while a tier scales from zero, the router is what holds its requests, so it must stay in its Service. Which
  // tiers can serve now is in the body (and in /v1/models).
  app.get('/readyz', (_req, res) => {
    const state = getState();
    const held = deps.holds?.heldCounts() ?? new Map<string, number>();
    const cascades = [...state.cascades.values()].map((c) => {
      const tiers = c.config.tiers.map((t, i) => ({
        name: t.name,
        endpoints: t.endpoints.length,
        ready_replicas: c.clients[i]!.readyReplicas(),
        in_flight: c.clients[i]!.inFlight(),
        held: held.get(t.name) ?? 0,
      }));
      return { name: c.config.name, serving: tiers.some((t) => t.endpoints > 0), warm_tiers: tiers.filter((t) => t.endpoints > 0).map((t) => t.name), tiers };
    });
    const status = deps.configStatus?.();
    const accepting = deps.accepting();
    const ready = accepting && state.configured;
    const reason = !accepting ? 'shutting down' : !state.configured ? `no configuration loaded yet${status?.file ? ` (waiting for ${status.file})` : ''}` : null;
    res.status(ready ? 200 : 503).json({
      ready,
      ...(reason ? { reason } : {}),
      accepting,
      // Which process answered: under --workers each worker has its own tier clients and counts.
      pid: process.pid,
      configuration: {
        loaded: state.configured,
        ...(status ? { file: status.file ?? null, loaded_at: status.loadedAt, last_error: status.lastError } : {}),
        cascades: cascades.length,
      },
      cascades,
    });
  });

  const metricsText = deps.metricsText ?? (() => metrics.registry.metrics());
  app.get('/metrics', async (_req, res) => {
    const text = await metricsText();
    res.setHeader('content-type', metrics.registry.contentType);
    res.end(text);
  });

  app.use('/v1', auth);

  app.get('/v1/models', (_req, res) => {
    const state = getState();
    const created = Math.floor(state.createdAt / 1000);
    const data = [
      ...[...state.cascades.values()].map((c) => ({
        id: c.config.name, object: 'model', created, owned_by: 'tiermix',
        tiermix: { kind: 'cascade', tiers: c.config.tiers.map((t) => t.name), warm_tiers: c.config.tiers.filter((t) => t.endpoints.length > 0).map((t) => t.name) },
      })),
      ...[...state.tiers.values()].map((t) => ({
        id: t.tier.name, object: 'model', created, owned_by: 'tiermix',
        tiermix: {
          kind: 'tier', cascade: t.cascade.config.name, index: t.index, upstream_model: t.tier.model, gpus_per_replica: t.tier.gpusPerReplica,
          // 0 endpoints: scaled to zero or loading; a request is held for it (scaleFromZero.holdSeconds)
          endpoints: t.tier.endpoints.length, ready_replicas: t.client.readyReplicas(),
        },
      })),
    ];
    res.json({ object: 'list', data });
  });

  app.post('/v1/route', body, routeHandler(getState));

  app.use((req: Request, _res: Response, next: NextFunction) => {
    next(new ApiError(404, 'not_found_error', `No route for ${req.method} ${req.path}.`, null, 'unknown_url'));
  });
  app.use(errorMiddleware(metrics, logger));
  return app;
}
