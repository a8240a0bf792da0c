// A thin JSON client for the Kubernetes API: objects go over the wire exactly as given (no typed-model serializer,
// which drops fields such as a CRD schema's `default`), every call is checked against the RBAC rules the controller
// is granted (controller/runtime/rbac.ts), and every write is counted (for the steady-state "zero writes" check and
// the tiermix_controller_api_writes_total metric).
import http from 'node:http';
import https from 'node:https';
import type { KubeConfig } from '@kubernetes/client-node';
import { MANAGER } from '../../api/types.js';
import { CONTROLLER_RULES, type PolicyRule } from '../rbac.js';
import { resourcePath, type ResourceType } from './resources.js';

export type RbacVerb = 'get' | 'list' | 'watch' | 'create' | 'update' | 'patch' | 'delete';
/** Write verbs as counted: `apply` is a server-side-apply PATCH (RBAC verb patch). */
export type WriteVerb = 'create' | 'update' | 'patch' | 'apply' | 'delete';

export class ApiError extends Error {
  constructor(
    readonly code: number,
    readonly reason: string,
    message: string,
    readonly body: unknown,
  ) {
    super(message);
    this.name = 'ApiError';
  }
}

export const isNotFound = (err: unknown): boolean => err instanceof ApiError && err.code === 404;
export const isConflict = (err: unknown): boolean => err instanceof ApiError && err.code === 409;

export class ForbiddenByRbacContract extends Error {
  constructor(verb: string, group: string, resource: string) {
    super(
      `the controller may not ${verb} ${group || 'core'}/${resource}: not in controller/runtime/rbac.ts ` +
        '(add the rule there, and to the chart, if it is really needed)',
    );
    this.name = 'ForbiddenByRbacContract';
  }
}

export function allowedBy(rules: readonly PolicyRule[], verb: RbacVerb, group: string, resource: string): boolean {
  return rules.some(
    (r) =>
      (r.apiGroups.includes(group) || r.apiGroups.includes('*')) &&
      (r.resources.includes(resource) || r.resources.includes('*')) &&
      (r.verbs.includes(verb) || r.verbs.includes('*')),
  );
}

export interface KubeRestOptions {
  /** Rules this client may use; default CONTROLLER_RULES. */
  rules?: readonly PolicyRule[];
  /** Called after each successful write. */
  onWrite?: (verb: WriteVerb, resource: string) => void;
  /** Per-request timeout; default 15 s. */
  timeoutMs?: number;
}

interface RequestSpec {
  method: string;
  rbac: RbacVerb;
  write?: WriteVerb;
  rt: ResourceType;
  namespace?: string;
  name?: string;
  subresource?: string;
  query?: Record<string, string | undefined>;
  body?: unknown;
  contentType?: string;
  timeoutMs?: number;
}

export class KubeRest {
  private readonly rules: readonly PolicyRule[];
  private readonly server: URL;
  private agent: http.Agent | undefined;

  constructor(
    readonly kc: KubeConfig,
    private readonly opts: KubeRestOptions = {},
  ) {
    this.rules = opts.rules ?? CONTROLLER_RULES;
    const cluster = kc.getCurrentCluster();
    if (!cluster) throw new Error('kubeconfig has no current cluster');
    this.server = new URL(cluster.server);
  }

  /** Throws unless the rules allow `verb` on the resource (subresource as "<plural>/<sub>"). */
  authorize(verb: RbacVerb, rt: ResourceType, subresource?: string): void {
    const resource = subresource ? `${rt.plural}/${subresource}` : rt.plural;
    if (!allowedBy(this.rules, verb, rt.group, resource)) throw new ForbiddenByRbacContract(verb, rt.group, resource);
  }

  get<T>(rt: ResourceType, namespace: string | undefined, name: string, opts: { timeoutMs?: number } = {}): Promise<T> {
    return this.request<T>({ method: 'GET', rbac: 'get', rt, namespace, name, ...opts });
  }

  list<T>(
    rt: ResourceType,
    namespace?: string,
    selectors: { labelSelector?: string; fieldSelector?: string } = {},
  ): Promise<{ items: T[]; metadata?: { resourceVersion?: string } }> {
    return this.request({ method: 'GET', rbac: 'list', rt, namespace, query: selectors });
  }

  create<T>(rt: ResourceType, namespace: string | undefined, body: unknown, opts: { timeoutMs?: number } = {}): Promise<T> {
    return this.request<T>({ method: 'POST', rbac: 'create', write: 'create', rt, namespace, body, ...opts });
  }

  /** PUT; the body's metadata.resourceVersion makes it conditional (409 when stale). */
  update<T>(rt: ResourceType, namespace: string | undefined, name: string, body: unknown, opts: { timeoutMs?: number } = {}): Promise<T> {
    return this.request<T>({ method: 'PUT', rbac: 'update', write: 'update', rt, namespace, name, body, ...opts });
  }

  /** Server-side apply with field manager `tiermix`; `force` takes over fields other managers own. */
  apply<T>(rt: ResourceType, namespace: string | undefined, name: string, body: unknown, opts: { force: boolean; subresource?: string }): Promise<T> {
    return this.request<T>({
      method: 'PATCH',
      rbac: 'patch',
      write: 'apply',
      rt,
      namespace,
      name,
      subresource: opts.subresource,
      query: { fieldManager: MANAGER, force: opts.force ? 'true' : undefined },
      body,
      contentType: 'application/apply-patch+yaml',
    });
  }

  /** JSON merge patch (RFC 7386), e.g. of the status subresource. */
  mergePatch<T>(rt: ResourceType, namespace: string | undefined, name: string, body: unknown, subresource?: string): Promise<T> {
    return this.request<T>({
      method: 'PATCH',
      rbac: 'patch',
      write: 'patch',
      rt,
      namespace,
      name,
      subresource,
      query: { fieldManager: MANAGER },
      body,
      contentType: 'application/merge-patch+json',
    });
  }

  /** DELETE with a UID precondition when given (never deletes a newer object of the same name). */
  async delete(rt: ResourceType, namespace: string | undefined, name: string, opts: { uid?: string } = {}): Promise<void> {
    const body = {
      apiVersion: 'v1',
      kind: 'DeleteOptions',
      propagationPolicy: 'Background',
      ...(opts.uid ? { preconditions: { uid: opts.uid } } : {}),
    };
    await this.request({ method: 'DELETE', rbac: 'delete', write: 'delete', rt, namespace, name, body });
  }

  /** Releases pooled connections. */
  close(): void {
    this.agent?.destroy();
    this.agent = undefined;
  }

  private async request<T>(spec: RequestSpec): Promise<T> {
    this.authorize(spec.rbac, spec.rt, spec.subresource);
    const url = new URL(resourcePath(spec.rt, spec.namespace, spec.name, spec.subresource), this.server);
    for (const [k, v] of Object.entries(spec.query ?? {})) if (v !== undefined) url.searchParams.set(k, v);
    // Credentials are re-read per request (in-cluster tokens rotate); the TLS agent is built once and keeps connections.
    const auth: https.RequestOptions = { headers: {} };
    await this.kc.applyToHTTPSOptions(auth);
    const payload = spec.body === undefined ? undefined : Buffer.from(JSON.stringify(spec.body));
    const headers: Record<string, string> = {
      ...(auth.headers as Record<string, string>),
      accept: 'application/json',
      'user-agent': 'tiermix-controller',
    };
    if (payload) {
      headers['content-type'] = spec.contentType ?? 'application/json';
      headers['content-length'] = String(payload.length);
    }
    const isHttps = url.protocol === 'https:';
    this.agent ??= isHttps
      ? new https.Agent({
          keepAlive: true,
          ca: auth.ca,
          cert: auth.cert,
          key: auth.key,
          ...(auth.rejectUnauthorized !== undefined ? { rejectUnauthorized: auth.rejectUnauthorized } : {}),
          ...(auth.servername ? { servername: auth.servername } : {}),
        })
      : new http.Agent({ keepAlive: true });
    const timeoutMs = spec.timeoutMs ?? this.opts.timeoutMs ?? 15_000;
    const { status, text } = await new Promise<{ status: number; text: string }>((resolve, reject) => {
      const req = (isHttps ? https : http).request(
        url,
        { method: spec.method, headers, agent: this.agent, ...(auth.auth ? { auth: auth.auth } : {}) },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () => resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString('utf8') }));
          res.on('error', reject);
        },
      );
      req.setTimeout(timeoutMs, () => req.destroy(new Error(`${spec.method} ${url.pathname}: no answer in ${timeoutMs} ms`)));
      req.on('error', reject);
      req.end(payload);
    });
    let parsed: unknown = undefined;
    try {
      parsed = text ? JSON.parse(text) : undefined;
    } catch {
      parsed = text;
    }
    if (status < 200 || status >= 300) {
      const s = (parsed ?? {}) as { reason?: string; message?: string };
      throw new ApiError(status, s.reason ?? 'Unknown', `${spec.method} ${url.pathname}: ${status} ${s.message ?? text.slice(0, 300)}`, parsed);
    }
    if (spec.write) this.opts.onWrite?.(spec.write, spec.subresource ? `${spec.rt.plural}/${spec.subresource}` : spec.rt.plural);
    return parsed as T;
  }
}
