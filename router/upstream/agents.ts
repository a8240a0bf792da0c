// Keep-alive agents shared by every call of one tier client (never created per call).
import http from 'node:http';
import https from 'node:https';
import type { Duplex } from 'node:stream';

export interface AgentOptions {
  /** Limit for setting up one TCP (and TLS) connection. */
  connectTimeoutMs: number;
  /** Concurrent connections per replica; vLLM batches hundreds of requests, so this is large. */
  maxSocketsPerReplica: number;
}

/** Error code of a connection that did not come up within connectTimeoutMs. */
export const CONNECT_TIMEOUT_CODE = 'ECONNECTTIMEOUT';

// Idle keep-alive sockets are closed before vLLM's server (uvicorn, 5 s keep-alive by default) closes
// them, so a request is rarely written into a socket the server is just closing.
const IDLE_SOCKET_MS = 4000;

function baseOptions(opts: AgentOptions): http.AgentOptions {
  return {
    keepAlive: true,
    maxSockets: opts.maxSocketsPerReplica,
    maxFreeSockets: Math.min(256, opts.maxSocketsPerReplica),
    timeout: IDLE_SOCKET_MS,
    scheduling: 'lifo',
  };
}

// Node's agents have no connect timeout of their own; arm one per new socket (not per call).
function armConnectTimeout(socket: Duplex | null | undefined, ms: number, readyEvent: string): void {
  if (!socket) return;
  const timer = setTimeout(() => {
    socket.destroy(Object.assign(new Error(`connect timeout after ${ms} ms`), { code: CONNECT_TIMEOUT_CODE }));
  }, ms);
  timer.unref();
  const clear = (): void => clearTimeout(timer);
  socket.once(readyEvent, clear);
  socket.once('close', clear);
}

class HttpAgentWithConnectTimeout extends http.Agent {
  constructor(private readonly connectTimeoutMs: number, options: http.AgentOptions) {
    super(options);
  }

  override createConnection(
    options: http.ClientRequestArgs,
    callback?: (err: Error | null, stream: Duplex) => void,
  ): Duplex | null | undefined {
    const socket = super.createConnection(options, callback);
    armConnectTimeout(socket, this.connectTimeoutMs, 'connect');
    return socket;
  }
}

class HttpsAgentWithConnectTimeout extends https.Agent {
  constructor(private readonly connectTimeoutMs: number, options: https.AgentOptions) {
    super(options);
  }

  override createConnection(
    options: https.RequestOptions,
    callback?: (err: Error | null, stream: Duplex) => void,
  ): Duplex | null | undefined {
    const socket = super.createConnection(options, callback);
    armConnectTimeout(socket, this.connectTimeoutMs, 'secureConnect');
    return socket;
  }
}

export interface KeepAliveAgents {
  readonly http: http.Agent;
  readonly https: https.Agent;
  /** Destroy idle pooled sockets; sockets still serving a call are left alone. */
  destroyIdleSockets(): void;
}

export function createKeepAliveAgents(opts: AgentOptions): KeepAliveAgents {
  const httpAgent = new HttpAgentWithConnectTimeout(opts.connectTimeoutMs, baseOptions(opts));
  const httpsAgent = new HttpsAgentWithConnectTimeout(opts.connectTimeoutMs, baseOptions(opts));
  return {
    http: httpAgent,
    https: httpsAgent,
    destroyIdleSockets() {
      for (const agent of [httpAgent, httpsAgent]) {
        for (const sockets of Object.values(agent.freeSockets)) for (const s of sockets ?? []) s.destroy();
      }
    },
  };
}
