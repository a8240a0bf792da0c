// A real Kubernetes control plane for tests: etcd + kube-apiserver v1.20.2 on 127.0.0.1, and in full mode also
// kube-controller-manager + kube-scheduler. Binaries come from test/k8s/build-control-plane.sh (`make k8s-binaries`).
//
// Every start gets free ports, a fresh temp run dir (etcd data, certs, tokens, kubeconfig, logs) and a random bearer
// token, so parallel runs do not collide. Processes are stopped by PID only: by stop(), by an exit hook, and by a
// guard process (guard.ts) that outlives a crashed or killed test process.
import { spawn, type ChildProcess } from 'node:child_process';
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { accessSync, closeSync, constants, existsSync, mkdirSync, mkdtempSync, openSync, readSync, fstatSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import net from 'node:net';
import { homedir, tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { KubeConfig } from '@kubernetes/client-node';
import YAML from 'yaml';
import { waitFor } from './wait.js';

export const K8S_VERSION = 'v1.20.2';

export type ComponentName = 'etcd' | 'kube-apiserver' | 'kube-controller-manager' | 'kube-scheduler';

export interface StartOptions {
  /** Also run kube-controller-manager and kube-scheduler (Deployments become scheduled pods). */
  full?: boolean;
  /** Per-component readiness timeout. Default 90 s (the machine may be busy). */
  readyTimeoutMs?: number;
  /** Keep the run dir (logs, etcd data) after stop(). Also: TIERMIX_K8S_KEEP_RUN_DIR=1. */
  keepRunDir?: boolean;
  /** Progress lines (component ready after N ms). Default: silent unless TIERMIX_K8S_VERBOSE=1. */
  log?: (line: string) => void;
  /**
   * Runs once kube-apiserver is ready, before kube-controller-manager starts (full mode). Install CRDs here: the
   * garbage collector discovers new resource types only every 30 s, so owners of a CRD installed later are not
   * collected for up to 30 s.
   */
  beforeControllers?: (kc: KubeConfig) => Promise<void>;
}

export interface ControlPlane {
  /** kubeconfig file (server, CA of the apiserver's self-signed cert, bearer token), mode 0600. */
  readonly kubeconfigPath: string;
  /** https://127.0.0.1:<port> */
  readonly server: string;
  /** Bearer token of a system:masters user. */
  readonly token: string;
  readonly runDir: string;
  readonly full: boolean;
  readonly ports: Readonly<Record<string, number>>;
  /** Milliseconds from start() until each component was ready, and in total. */
  readonly timings: Readonly<Record<string, number>>;
  /** A fresh client-node KubeConfig loaded from kubeconfigPath. */
  kubeConfig(): KubeConfig;
  /** PIDs of the running components. */
  pids(): Partial<Record<ComponentName, number>>;
  /** The last `lines` lines of a component's log. */
  logsTail(name: ComponentName, lines?: number): string;
  /** Stops every component by PID (SIGTERM, then SIGKILL) and removes the run dir. Idempotent. */
  stop(): Promise<void>;
}

export interface Binaries {
  etcd: string;
  kubeApiserver: string;
  kubeControllerManager: string;
  kubeScheduler: string;
}

/** Where build-control-plane.sh puts the binaries (or $TIERMIX_K8S_BIN). */
export function k8sBinDir(): string {
  if (process.env.TIERMIX_K8S_BIN) return process.env.TIERMIX_K8S_BIN;
  const cache = process.env.TIERMIX_CACHE_DIR || join(homedir(), '.cache', 'tiermix');
  return join(cache, `k8s-${K8S_VERSION}`, 'bin');
}

function isExecutable(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

function findEtcd(): string | undefined {
  if (process.env.TIERMIX_ETCD) return isExecutable(process.env.TIERMIX_ETCD) ? process.env.TIERMIX_ETCD : undefined;
  const dirs = (process.env.PATH ?? '').split(delimiter).concat(['/usr/bin', '/usr/local/bin']);
  return dirs.map((d) => join(d, 'etcd')).find(isExecutable);
}

/** Finds the binaries or throws an error that says how to get them. */
export function findBinaries(): Binaries {
  const dir = k8sBinDir();
  const missing = ['kube-apiserver', 'kube-controller-manager', 'kube-scheduler'].filter((b) => !isExecutable(join(dir, b)));
  if (missing.length > 0) {
    throw new Error(
      `Kubernetes test binaries missing in ${dir}: ${missing.join(', ')}. Run \`make k8s-binaries\` ` +
        `(builds kube-apiserver, kube-controller-manager and kube-scheduler ${K8S_VERSION} once into that cache, ` +
        `about 7 min cold), or point TIERMIX_K8S_BIN at a directory that has them.`,
    );
  }
  const etcd = findEtcd();
  if (!etcd) {
    throw new Error(
      'etcd not found (Debian package etcd-server). Run `make k8s-binaries`, which installs it, or set TIERMIX_ETCD.',
    );
  }
  return {
    etcd,
    kubeApiserver: join(dir, 'kube-apiserver'),
    kubeControllerManager: join(dir, 'kube-controller-manager'),
    kubeScheduler: join(dir, 'kube-scheduler'),
  };
}

/** Distinct free TCP ports on 127.0.0.1 (all held open together, then released). */
export async function freePorts(count: number): Promise<number[]> {
  const servers: net.Server[] = [];
  try {
    for (let i = 0; i < count; i++) {
      const srv = net.createServer();
      servers.push(srv);
      await new Promise<void>((resolve, reject) => {
        srv.once('error', reject);
        srv.listen(0, '127.0.0.1', () => resolve());
      });
    }
    return servers.map((s) => (s.address() as net.AddressInfo).port);
  } finally {
    await Promise.all(servers.map((s) => new Promise<void>((resolve) => s.close(() => resolve()))));
  }
}

interface ProbeResult {
  status: number;
  body: string;
}

/** One HTTP(S) GET with a short timeout. Readiness probes skip TLS verification (the cert may not exist yet). */
function get(url: string, token?: string, timeoutMs = 3000): Promise<ProbeResult> {
  return new Promise((resolve, reject) => {
    const u = new URL(url);
    const mod = u.protocol === 'https:' ? https : http;
    const req = mod.request(
      u,
      {
        method: 'GET',
        agent: false,
        rejectUnauthorized: false,
        timeout: timeoutMs,
        headers: token ? { authorization: `Bearer ${token}` } : {},
      },
      (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (c: string) => (body += c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
        res.on('error', reject);
      },
    );
    req.on('timeout', () => req.destroy(new Error(`GET ${url}: no answer within ${timeoutMs} ms`)));
    req.on('error', reject);
    req.end();
  });
}

/** The last `lines` lines of a file (at most its last 64 KiB). */
export function readTail(path: string, lines: number): string {
  if (!existsSync(path)) return '(no log file)';
  const fd = openSync(path, 'r');
  try {
    const size = fstatSync(fd).size;
    const len = Math.min(size, 64 * 1024);
    const buf = Buffer.alloc(len);
    readSync(fd, buf, 0, len, size - len);
    const all = buf.toString('utf8').split('\n');
    if (all[all.length - 1] === '') all.pop();
    return all.slice(-lines).join('\n');
  } finally {
    closeSync(fd);
  }
}

interface Proc {
  name: ComponentName;
  child: ChildProcess;
  pid: number;
  logPath: string;
  exited: boolean;
  exit: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

// Every live control plane of this process, for the exit hook.
const live = new Set<ControlPlaneImpl>();
let exitHookInstalled = false;
function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  // Synchronous last resort when the test process exits without stop(): SIGTERM by PID. The guard follows up
  // with SIGKILL and removes the run dir once this process is gone.
  process.on('exit', () => {
    for (const cp of live) cp.killNow();
  });
}

class PortClashError extends Error {}

const GUARD_PATH = fileURLToPath(new URL('./guard.js', import.meta.url));

class ControlPlaneImpl implements ControlPlane {
  readonly token = randomBytes(24).toString('hex');
  readonly runDir: string;
  readonly kubeconfigPath: string;
  readonly ports: Record<string, number> = {};
  readonly timings: Record<string, number> = {};
  server = '';
  private readonly procs: Proc[] = [];
  private guard: ChildProcess | undefined;
  private stopping: Promise<void> | undefined;
  private readonly t0 = Date.now();
  private readonly log: (line: string) => void;
  private readonly readyTimeoutMs: number;
  private readonly keepRunDir: boolean;
  private readonly beforeControllers: StartOptions['beforeControllers'];

  constructor(
    private readonly bins: Binaries,
    readonly full: boolean,
    opts: StartOptions,
  ) {
    const root = process.env.TIERMIX_K8S_RUN_ROOT || tmpdir();
    this.runDir = mkdtempSync(join(root, 'tiermix-k8s-'));
    this.kubeconfigPath = join(this.runDir, 'kubeconfig');
    this.readyTimeoutMs = opts.readyTimeoutMs ?? 90_000;
    this.keepRunDir = opts.keepRunDir ?? process.env.TIERMIX_K8S_KEEP_RUN_DIR === '1';
    this.beforeControllers = opts.beforeControllers;
    this.log =
      opts.log ?? (process.env.TIERMIX_K8S_VERBOSE === '1' ? (l) => process.stderr.write(`[k8s] ${l}\n`) : () => undefined);
  }

  kubeConfig(): KubeConfig {
    const kc = new KubeConfig();
    kc.loadFromFile(this.kubeconfigPath);
    return kc;
  }

  pids(): Partial<Record<ComponentName, number>> {
    const out: Partial<Record<ComponentName, number>> = {};
    for (const p of this.procs) if (!p.exited) out[p.name] = p.pid;
    return out;
  }

  logsTail(name: ComponentName, lines = 40): string {
    return readTail(join(this.runDir, 'logs', `${name}.log`), lines);
  }

  async start(): Promise<void> {
    live.add(this);
    installExitHook();
    this.startGuard();
    mkdirSync(join(this.runDir, 'logs'));
    const [etcdClient, etcdPeer, apiserver, cm, sched] = (await freePorts(5)) as [number, number, number, number, number];
    Object.assign(this.ports, { etcdClient, etcdPeer, apiserver, controllerManager: cm, scheduler: sched });
    this.server = `https://127.0.0.1:${apiserver}`;
    this.writeFiles();

    const etcd = this.spawn('etcd', this.bins.etcd, [
      '--name=tiermix',
      `--data-dir=${join(this.runDir, 'etcd-data')}`,
      `--listen-client-urls=http://127.0.0.1:${etcdClient}`,
      `--advertise-client-urls=http://127.0.0.1:${etcdClient}`,
      `--listen-peer-urls=http://127.0.0.1:${etcdPeer}`,
      `--initial-advertise-peer-urls=http://127.0.0.1:${etcdPeer}`,
      `--initial-cluster=tiermix=http://127.0.0.1:${etcdPeer}`,
    ]);
    await this.ready(etcd, `etcd /health on 127.0.0.1:${etcdClient}`, async () => {
      const r = await get(`http://127.0.0.1:${etcdClient}/health`);
      return r.status === 200 && /"health":\s*"true"/.test(r.body);
    });

    const sa = join(this.runDir, 'sa');
    const api = this.spawn('kube-apiserver', this.bins.kubeApiserver, [
      `--etcd-servers=http://127.0.0.1:${etcdClient}`,
      '--bind-address=127.0.0.1',
      '--advertise-address=127.0.0.1',
      `--secure-port=${apiserver}`,
      '--insecure-port=0',
      `--cert-dir=${join(this.runDir, 'certs')}`,
      `--token-auth-file=${join(this.runDir, 'tokens.csv')}`,
      '--authorization-mode=RBAC',
      '--service-account-issuer=https://kubernetes.default.svc.cluster.local',
      `--service-account-key-file=${sa}.pub`,
      `--service-account-signing-key-file=${sa}.key`,
      '--service-cluster-ip-range=10.96.0.0/24',
      '--disable-admission-plugins=ServiceAccount',
      '--allow-privileged=true',
      '--profiling=false',
    ]);
    await this.ready(api, `kube-apiserver /readyz on ${this.server}`, async () => {
      const r = await get(`${this.server}/readyz`, this.token);
      return r.status === 200;
    });
    if (!existsSync(this.caPath)) throw new Error(`kube-apiserver is ready but wrote no ${this.caPath}`);

    if (this.beforeControllers) await this.beforeControllers(this.kubeConfig());
    if (this.full) await this.startControllers(sa, cm, sched);
    this.timings.total = Date.now() - this.t0;
  }

  private async startControllers(sa: string, cm: number, sched: number): Promise<void> {
    const common = [
      `--kubeconfig=${this.kubeconfigPath}`,
      `--authentication-kubeconfig=${this.kubeconfigPath}`,
      `--authorization-kubeconfig=${this.kubeconfigPath}`,
      '--bind-address=127.0.0.1',
      '--port=0',
      '--leader-elect=false',
      '--profiling=false',
    ];
    const kcm = this.spawn('kube-controller-manager', this.bins.kubeControllerManager, [
      ...common,
      `--secure-port=${cm}`,
      `--service-account-private-key-file=${sa}.key`,
      `--root-ca-file=${this.caPath}`,
      `--cert-dir=${join(this.runDir, 'certs', 'kube-controller-manager')}`,
    ]);
    const ks = this.spawn('kube-scheduler', this.bins.kubeScheduler, [
      ...common,
      `--secure-port=${sched}`,
      `--cert-dir=${join(this.runDir, 'certs', 'kube-scheduler')}`,
    ]);
    await Promise.all([
      // Healthy, and its controllers really run: the service-account controller created "default" in "default".
      this.ready(kcm, 'kube-controller-manager (/healthz and the default ServiceAccount)', async () => {
        const h = await get(`https://127.0.0.1:${cm}/healthz`);
        if (h.status !== 200) return false;
        const r = await get(`${this.server}/api/v1/namespaces/default/serviceaccounts/default`, this.token);
        return r.status === 200;
      }),
      this.ready(ks, `kube-scheduler /healthz on 127.0.0.1:${sched}`, async () => {
        const h = await get(`https://127.0.0.1:${sched}/healthz`);
        return h.status === 200;
      }),
    ]);
  }

  get caPath(): string {
    return join(this.runDir, 'certs', 'apiserver.crt');
  }

  private writeFiles(): void {
    const { publicKey, privateKey } = generateKeyPairSync('rsa', {
      modulusLength: 2048,
      publicKeyEncoding: { type: 'spki', format: 'pem' },
      privateKeyEncoding: { type: 'pkcs1', format: 'pem' },
    });
    writeFileSync(join(this.runDir, 'sa.key'), privateKey, { mode: 0o600 });
    writeFileSync(join(this.runDir, 'sa.pub'), publicKey);
    writeFileSync(join(this.runDir, 'tokens.csv'), `${this.token},tiermix-admin,tiermix-admin,"system:masters"\n`, {
      mode: 0o600,
    });
    const kubeconfig = {
      apiVersion: 'v1',
      kind: 'Config',
      clusters: [{ name: 'tiermix-test', cluster: { server: this.server, 'certificate-authority': this.caPath } }],
      users: [{ name: 'tiermix-admin', user: { token: this.token } }],
      contexts: [{ name: 'tiermix-test', context: { cluster: 'tiermix-test', user: 'tiermix-admin', namespace: 'default' } }],
      'current-context': 'tiermix-test',
    };
    writeFileSync(this.kubeconfigPath, YAML.stringify(kubeconfig), { mode: 0o600 });
  }

  private startGuard(): void {
    const guard = spawn(process.execPath, [GUARD_PATH], { stdio: ['ignore', 'ignore', 'inherit', 'ipc'] });
    guard.on('error', () => undefined);
    guard.unref();
    guard.channel?.unref();
    this.guard = guard;
    this.toGuard({ runDir: this.keepRunDir ? '' : this.runDir });
  }

  private toGuard(msg: object): void {
    try {
      if (this.guard?.connected) this.guard.send(msg);
    } catch {
      // the guard is gone; stop() and the exit hook still work
    }
  }

  private spawn(name: ComponentName, bin: string, args: string[]): Proc {
    const logPath = join(this.runDir, 'logs', `${name}.log`);
    const fd = openSync(logPath, 'a');
    const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('ETCD')));
    let child: ChildProcess;
    try {
      child = spawn(bin, args, { cwd: this.runDir, env, stdio: ['ignore', fd, fd] });
    } finally {
      closeSync(fd);
    }
    if (child.pid === undefined) throw new Error(`could not start ${name} (${bin})`);
    child.unref();
    const proc: Proc = {
      name,
      child,
      pid: child.pid,
      logPath,
      exited: false,
      exit: new Promise((resolve) => {
        child.once('exit', (code, signal) => {
          proc.exited = true;
          this.toGuard({ release: proc.pid });
          resolve({ code, signal });
        });
      }),
    };
    child.on('error', () => undefined);
    this.procs.push(proc);
    this.toGuard({ watch: proc.pid });
    this.log(`${name} started, pid ${proc.pid}`);
    return proc;
  }

  private async ready(proc: Proc, what: string, probe: () => Promise<boolean>): Promise<void> {
    const exited = proc.exit.then(({ code, signal }) => {
      const tail = this.logsTail(proc.name, 30);
      if (/address already in use/i.test(tail)) throw new PortClashError(`${proc.name}: port taken meanwhile`);
      throw new Error(
        `${proc.name} exited during start (code ${code}, signal ${signal}). Last lines of ${proc.logPath}:\n${tail}`,
      );
    });
    try {
      await waitFor(what, probe, { timeoutMs: this.readyTimeoutMs, intervalMs: 150, abort: exited });
    } catch (err) {
      if (err instanceof PortClashError) throw err;
      if (err instanceof Error && err.name === 'WaitTimeoutError') {
        throw new Error(`${err.message}. Last lines of ${proc.logPath}:\n${this.logsTail(proc.name, 30)}`);
      }
      throw err;
    }
    this.timings[proc.name] = Date.now() - this.t0;
    this.log(`${proc.name} ready after ${this.timings[proc.name]} ms`);
  }

  /** Exit hook: synchronous SIGTERM to every live component. */
  killNow(): void {
    for (const p of this.procs) {
      if (!p.exited) {
        try {
          process.kill(p.pid, 'SIGTERM');
        } catch {
          // gone
        }
      }
    }
  }

  stop(): Promise<void> {
    this.stopping ??= this.doStop();
    return this.stopping;
  }

  private async doStop(): Promise<void> {
    // Clients first, then the apiserver, then etcd.
    const order: ComponentName[][] = [['kube-scheduler', 'kube-controller-manager'], ['kube-apiserver'], ['etcd']];
    for (const names of order) {
      await Promise.all(this.procs.filter((p) => names.includes(p.name)).map((p) => this.stopProc(p)));
    }
    live.delete(this);
    this.toGuard({ done: true });
    if (this.guard?.connected) this.guard.disconnect();
    if (!this.keepRunDir) rmSync(this.runDir, { recursive: true, force: true });
  }

  private async stopProc(p: Proc, graceMs = 10_000): Promise<void> {
    if (p.exited) return;
    try {
      process.kill(p.pid, 'SIGTERM');
    } catch {
      // gone
    }
    let timer: NodeJS.Timeout | undefined;
    const stopped = await Promise.race([
      p.exit.then(() => true),
      new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(false), graceMs))),
    ]);
    clearTimeout(timer);
    if (stopped) return;
    try {
      process.kill(p.pid, 'SIGKILL');
    } catch {
      // gone
    }
    await p.exit;
  }
}

/**
 * Starts etcd + kube-apiserver (and in full mode kube-controller-manager + kube-scheduler) and waits until each is
 * ready. Throws with the component's log tail when one fails to start; throws with a "run `make k8s-binaries`"
 * message when the binaries are missing. Always call stop() (e.g. in an `after` hook).
 */
export async function startControlPlane(opts: StartOptions = {}): Promise<ControlPlane> {
  const bins = findBinaries();
  for (let attempt = 1; ; attempt++) {
    const cp = new ControlPlaneImpl(bins, opts.full ?? false, opts);
    try {
      await cp.start();
      return cp;
    } catch (err) {
      await cp.stop();
      // Another process took one of our free ports between choosing and binding it: choose again.
      if (err instanceof PortClashError && attempt < 3) continue;
      throw err;
    }
  }
}
