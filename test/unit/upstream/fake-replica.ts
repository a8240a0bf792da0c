// A stand-in vLLM replica on 127.0.0.1 for the upstream tests.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { RetryConfig, TierConfig } from '../../../router/config/schema.js';

export type Handler = (req: http.IncomingMessage, res: http.ServerResponse, body: string) => void;

export interface FakeReplica {
  url: string;
  /** POST requests received. */
  posts: number;
  /** GET /health requests received. */
  healthChecks: number;
  /** Status /health answers with. */
  healthStatus: number;
  /** Current and highest number of POSTs being served at once. */
  active: number;
  maxActive: number;
  /** Bodies of the POSTs received, parsed. */
  bodies: unknown[];
  handler: Handler;
  close(): Promise<void>;
}

export const answerOk =
  (delayMs = 0): Handler =>
  (req, res) => {
    const send = (): void => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ id: 'cmpl-1', port: req.socket.localPort, choices: [{ text: 'ok' }] }));
    };
    if (delayMs > 0) setTimeout(send, delayMs);
    else send();
  };

export const answerStatus =
  (status: number, body: unknown = { object: 'error', message: `status ${status}` }): Handler =>
  (_req, res) => {
    res.writeHead(status, { 'content-type': 'application/json' });
    res.end(JSON.stringify(body));
  };

/** Never answers (until the client gives up). */
export const hang: Handler = () => {};

export async function startFakeReplica(handler: Handler = answerOk()): Promise<FakeReplica> {
  const replica: FakeReplica = {
    url: '',
    posts: 0,
    healthChecks: 0,
    healthStatus: 200,
    active: 0,
    maxActive: 0,
    bodies: [],
    handler,
    close: async () => {},
  };
  const server = http.createServer((req, res) => {
    if (req.method === 'GET' && req.url === '/health') {
      replica.healthChecks++;
      res.writeHead(replica.healthStatus).end();
      return;
    }
    replica.posts++;
    replica.active++;
    replica.maxActive = Math.max(replica.maxActive, replica.active);
    res.once('close', () => replica.active--);
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      try {
        replica.bodies.push(JSON.parse(body));
      } catch {
        replica.bodies.push(body);
      }
      replica.handler(req, res, body);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  replica.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  replica.close = () =>
    new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    });
  return replica;
}

/** A URL nobody listens on (connection refused). */
export async function refusedUrl(): Promise<string> {
  const r = await startFakeReplica();
  await r.close();
  return r.url;
}

export function tierOf(endpoints: string[], requestSeconds = 2, gpusPerReplica = 1): TierConfig {
  return { name: 'small', model: 'm', endpoints, gpusPerReplica, timeouts: { connectSeconds: 1, requestSeconds } };
}

export const retryOf = (attemptsPerTier: number): RetryConfig => ({ attemptsPerTier, tierFallbacks: 1 });

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Poll until cond() holds or the time is up. */
export async function waitFor(cond: () => boolean, timeoutMs = 2000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await sleep(10);
  }
}
