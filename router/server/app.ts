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
import type { RouterState } from './state.js';

export interface RouterAppDeps {
  getState: () => RouterState;
  metrics: RouterMetrics;
  logger: Logger;
  /** False while shutting down, so load balancers stop sending traffic. */
  accepting: () => boolean;
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
  app.post('/v1/chat/completions', auth, body, completionsHandler('chat', getState, metrics));
  app.post('/v1/completions', auth, body, completionsHandler('completion', getState, metrics));

  app.get('/healthz', (_req, res) => {
    res.json({ status: 'ok' });
  });

  app.get('/readyz', (_req, res) => {
    const state = getState();
    const cascades = [...state.cascades.values()].map((c) => ({
      name: c.config.name,
      tiers: c.config.tiers.map((t, i) => ({ name: t.name, ready_replicas: c.clients[i]!.readyReplicas(), endpoints: t.endpoints.length })),
    }));
    // A cascade can serve as soon as one of its tiers has a ready replica (fallback covers the rest).
    const ready = deps.accepting() && cascades.every((c) => c.tiers.some((t) => t.ready_replicas > 0));
    res.status(ready ? 200 : 503).json({ ready, accepting: deps.accepting(), cascades });
  });

  app.get('/metrics', async (_req, res) => {
    res.setHeader('content-type', metrics.registry.contentType);
    res.end(await metrics.registry.metrics());
  });

  app.use('/v1', auth);

  app.get('/v1/models', (_req, res) => {
    const state = getState();
    const created = Math.floor(state.createdAt / 1000);
    const data = [
      ...[...state.cascades.values()].map((c) => ({
        id: c.config.name, object: 'model', created, owned_by: 'tiermix',
        tiermix: { kind: 'cascade', tiers: c.config.tiers.map((t) => t.name) },
      })),
      ...[...state.tiers.values()].map((t) => ({
        id: t.tier.name, object: 'model', created, owned_by: 'tiermix',
        tiermix: { kind: 'tier', cascade: t.cascade.config.name, index: t.index, upstream_model: t.tier.model, gpus_per_replica: t.tier.gpusPerReplica },
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
