// The keep-alive connection pools of one tier client: an undici Agent (one pool per replica origin),
// shared by every call and never created per call.
import net, { type LookupFunction } from 'node:net';
import tls from 'node:tls';
import { Agent, type buildConnector, type Dispatcher } from 'undici';

export interface AgentOptions {
  /** Limit for setting up one TCP (and TLS) connection. */
  connectTimeoutMs: number;
  /** Concurrent connections per replica; vLLM batches hundreds of requests, so this is large. */
  maxSocketsPerReplica: number;
  /** Name lookup for new connections (default dns.lookup); tests use one that never answers. */
  lookup?: LookupFunction;
}

/** Error code of a connection that did not come up within connectTimeoutMs. */
export const CONNECT_TIMEOUT_CODE = 'ECONNECTTIMEOUT';

// Idle keep-alive connections are closed before vLLM's server (uvicorn, 5 s keep-alive by default)
// closes them, so a request is rarely written into a connection the server is just closing. undici
// also checks an idle connection for a pending close before it reuses it.
const IDLE_SOCKET_MS = 4000;
// TCP keep-alive probes on pooled connections, set once per connection.
const TCP_KEEPALIVE_DELAY_MS = 60_000;

/**
 * Opens the TCP (or TLS) connections of the pools. undici's own connect timeout runs on its coarse
 * timer wheel (about 0.5 s granularity); this arms a plain timer per new connection (not per call),
 * as the node:http agents did, and fails with CONNECT_TIMEOUT_CODE.
 */
function connector(opts: AgentOptions): buildConnector.connector {
  const ms = opts.connectTimeoutMs;
  return (options, callback) => {
    const port = Number(options.port) || (options.protocol === 'https:' ? 443 : 80);
    const host = options.hostname;
    const lookup = opts.lookup ? { lookup: opts.lookup } : {};
    const socket =
      options.protocol === 'https:'
        ? tls.connect({ host, port, servername: options.servername || (net.isIP(host) ? undefined : host), ALPNProtocols: ['http/1.1'], ...lookup })
        : net.connect({ host, port, ...lookup });
    socket.setNoDelay(true);
    socket.setKeepAlive(true, TCP_KEEPALIVE_DELAY_MS);
    let pending: buildConnector.Callback | null = callback;
    const settle = (err: Error | null): void => {
      clearTimeout(timer);
      if (!pending) return;
      const cb = pending;
      pending = null;
      if (err) cb(err, null);
      else cb(null, socket);
    };
    const timer = setTimeout(() => {
      const err = Object.assign(new Error(`connect timeout after ${ms} ms`), { code: CONNECT_TIMEOUT_CODE });
      settle(err);
      socket.destroy(err);
    }, ms);
    timer.unref();
    socket.once(options.protocol === 'https:' ? 'secureConnect' : 'connect', () => settle(null));
    // Errors before the connection is up fail the connect; later ones are undici's to handle.
    socket.on('error', (err) => settle(err));
  };
}

export interface KeepAliveAgents {
  /** The dispatcher for new calls. */
  readonly dispatcher: Dispatcher;
  /** Connections open now, idle or busy, over all replicas (for tests and status pages). */
  openConnections(): number;
  /**
   * Close idle pooled connections. Calls in flight finish on their connections, which close after
   * them; calls made afterwards open new connections.
   */
  destroyIdleSockets(): void;
}

export function createKeepAliveAgents(opts: AgentOptions): KeepAliveAgents {
  const make = (): Agent =>
    new Agent({
      connections: opts.maxSocketsPerReplica,
      pipelining: 1,
      keepAliveTimeout: IDLE_SOCKET_MS,
      keepAliveMaxTimeout: IDLE_SOCKET_MS,
      connect: connector(opts),
    });
  let agent = make();
  let retiring = new Set<Agent>();
  return {
    get dispatcher() {
      return agent;
    },
    openConnections() {
      let n = 0;
      for (const a of [agent, ...retiring]) for (const stats of Object.values(a.stats)) n += Number(stats.connected);
      return n;
    },
    destroyIdleSockets() {
      // undici closes a pool gracefully (idle connections now, busy ones after their call); new calls
      // go to a fresh agent, so a client stays usable after close().
      const old = agent;
      agent = make();
      retiring.add(old);
      old.close().catch(() => {}).finally(() => retiring.delete(old));
    },
  };
}
