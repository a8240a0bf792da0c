// `make bench`, part E: what express's per-request prototype change costs the garbage collector, and what
// router/server/express-http-server.ts saves. Three small servers answer the same JSON POST at a fixed
// 500 req/s, each in its own process under --trace-gc-nvp:
//   - node:http alone (the floor);
//   - express as usually started, http.createServer(app): express sets the prototype of every req and res;
//   - the same app through createExpressServer(app): req and res are born with express's prototypes.
// Reported per server: scavenges, their mean pause, bytes allocated between scavenges and bytes promoted
// (survived into the old generation), and the client's latency. Then the same for the real router
// (pinned pass-through to a node:http upstream), which uses createExpressServer: what is left with the
// change in place.
//
//   node dist/test/bench/express-gc.js [--seconds <s>] [--out <dir>]
import { writeFileSync, mkdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { pacedLoad, type LatencySummary } from './load.js';
import { describeMachine, machineInfo, type MachineInfo } from './machine.js';
import { type Child, BARE_SERVER, COMPLETION_JSON, installExitHandlers, sleep, startRouter, startScript, stopAll, stopChild } from './procs.js';

const EXPRESS_HTTP_SERVER = new URL('../../router/server/express-http-server.js', import.meta.url).href;
// The servers are small ES modules run with `node --input-type=module -e`, so modules are imported by URL.
const EXPRESS = pathToFileURL(createRequire(import.meta.url).resolve('express')).href;
// The express apps answer the same completion as BARE_SERVER, with res.json as express apps usually do.
const expressApp = `
import express from ${JSON.stringify(EXPRESS)};
const answer = ${COMPLETION_JSON};
const app = express(); app.use(express.json());
app.post('/v1/completions', (req, res) => void res.json(answer));`;
const listen = `.listen(Number(process.argv[1]), '127.0.0.1', () => console.log('ready'));`;
const SERVERS: Record<string, { what: string; source: string }> = {
  'node:http': { what: 'node:http, body read and parsed by hand, fixed completion JSON (procs.ts BARE_SERVER)', source: BARE_SERVER },
  'express: http.createServer(app)': {
    what: 'express 5 + express.json + res.json of the same completion, started the usual way',
    source: `import http from 'node:http';${expressApp}\nhttp.createServer(app)${listen}`,
  },
  'express: createExpressServer(app)': {
    what: 'the same app through router/server/express-http-server.ts',
    source: `import { createExpressServer } from ${JSON.stringify(EXPRESS_HTTP_SERVER)};${expressApp}\ncreateExpressServer(app)${listen}`,
  },
};

interface GcRow {
  name: string;
  what: string;
  scavenges: number;
  scavengesPerSecond: number;
  meanPauseMs: number;
  allocatedKiBPerScavenge: number;
  promotedKiBPerScavenge: number;
  promotedKiBPerSecond: number;
  otherGcs: number;
  otherGcMs: number;
  latency: LatencySummary;
}

const BODY = JSON.stringify({ model: 'm', prompt: 'Name one use of a suspension bridge.', max_tokens: 8 });

/** Scavenge (gc=s) and other collections from --trace-gc-nvp lines. */
function gcStats(output: string, seconds: number): Omit<GcRow, 'name' | 'what' | 'latency'> {
  const lines = [...output.matchAll(/pause=([0-9.]+).*? gc=(\w+) .*$/gm)];
  const field = (line: string, key: string) => Number(new RegExp(`\\b${key}=([0-9.]+)`).exec(line)?.[1] ?? 0);
  const sc = lines.filter((m) => m[2] === 's');
  const other = lines.filter((m) => m[2] !== 's');
  const mean = (key: string) => sc.reduce((a, m) => a + field(m[0], key), 0) / Math.max(1, sc.length);
  const promoted = sc.reduce((a, m) => a + field(m[0], 'promoted'), 0);
  return {
    scavenges: sc.length,
    scavengesPerSecond: sc.length / seconds,
    meanPauseMs: mean('pause'),
    allocatedKiBPerScavenge: mean('allocated') / 1024,
    promotedKiBPerScavenge: mean('promoted') / 1024,
    promotedKiBPerSecond: promoted / 1024 / seconds,
    otherGcs: other.length,
    otherGcMs: other.reduce((a, m) => a + Number(m[1]), 0),
  };
}

/**
 * Everything the child prints to stdout (where --trace-gc-nvp writes) from now on. Child.output() keeps only the
 * last 64 KiB, about 60 trace lines: too few for a run of more than ~10 s.
 */
function traceFrom(child: Child): { restart(): void; text(): string } {
  let text = '';
  child.proc.stdout!.on('data', (d: Buffer) => void (text += d.toString()));
  return { restart: () => void (text = ''), text: () => text };
}

async function measure(name: string, what: string, url: string, child: Child, seconds: number): Promise<GcRow> {
  const trace = traceFrom(child);
  // Warm up, then count only the GCs of the measured part.
  await pacedLoad({ url, body: BODY, rate: 500, durationMs: 2000 });
  trace.restart();
  const r = await pacedLoad({ url, body: BODY, rate: 500, durationMs: seconds * 1000 });
  await sleep(200);
  const failed = r.non2xx + r.errors + r.timeouts;
  // A row of failed requests would measure error paths, not the servers: refuse it.
  if (failed > r.scheduled / 100) throw new Error(`${name}: ${failed} of ${r.scheduled} requests failed; first answer: ${r.sample.slice(0, 200)}`);
  return { name, what, ...gcStats(trace.text(), seconds), latency: r.latency };
}

const option = (args: string[], name: string): string | undefined => {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : undefined;
};

async function main(): Promise<void> {
  installExitHandlers();
  const args = process.argv.slice(2);
  const seconds = Number(option(args, '--seconds') ?? 10);
  if (!(seconds > 0)) throw new Error('--seconds: a positive number of seconds');
  const outDir = option(args, '--out') ?? fileURLToPath(new URL('../../../docs/benchmarks/', import.meta.url));
  const machine = machineInfo();
  console.log(`express GC benchmark: ${describeMachine(machine)}; 500 req/s for ${seconds} s per server`);
  const rows: GcRow[] = [];
  for (const [name, s] of Object.entries(SERVERS)) {
    const server = await startScript(name, s.source, [], ['--trace-gc-nvp']);
    rows.push(await measure(name, s.what, `${server.url}/v1/completions`, server.child, seconds));
    await stopChild(server.child);
  }
  rows.push(await routerRow(seconds));
  for (const r of rows) console.log(`${r.name.padEnd(34)} promoted ${r.promotedKiBPerScavenge.toFixed(0)} KiB/scavenge, pause ${r.meanPauseMs.toFixed(2)} ms, p99 ${r.latency.p99.toFixed(2)} ms`);
  mkdirSync(outDir, { recursive: true });
  const date = new Date().toISOString();
  const file = join(outDir, `express-gc-${date.slice(0, 10)}.md`);
  writeFileSync(file, render(rows, machine, date, seconds));
  console.log(`Written: ${file}`);
  await stopAll();
}

/** The router itself (pinned pass-through to BARE_SERVER), with the change in place. */
async function routerRow(seconds: number): Promise<GcRow> {
  const upstream = await startScript('upstream', BARE_SERVER);
  const router = await startRouter(
    `server: { host: 127.0.0.1, port: 0 }\ncascades:\n  - name: c\n    tiers:\n      - { name: m, model: m, gpusPerReplica: 1, endpoints: ["${upstream.url}"] }\n`,
    ['--trace-gc-nvp'],
  );
  return measure('tiermix router (pinned)', 'tiermix router, pinned pass-through to the node:http server above', `${router.url}/v1/completions`, router.child, seconds);
}

function render(rows: GcRow[], m: MachineInfo, date: string, seconds: number): string {
  const f = (x: number, d = 1) => x.toFixed(d);
  return [
    `# express and the garbage collector, ${date.slice(0, 10)}`,
    '',
    `Date ${date}; ${describeMachine(m)}; load average at start ${m.loadAverageAtStart.join(' ')}.`,
    '',
    `Each server runs alone in a process under \`node --trace-gc-nvp\` and answers the same ${Buffer.byteLength(BODY)}-byte JSON POST at 500 req/s (open loop, keep-alive) for ${seconds} s after a 2 s warm-up. ` +
      '"Promoted" is what survived a scavenge into the old generation: garbage that only a later mark-compact frees. Reproduce with `node dist/test/bench/express-gc.js` (part of `make bench`).',
    '',
    '| server | scavenges/s | mean pause ms | allocated KiB per scavenge | promoted KiB per scavenge | promoted KiB/s | other GCs (ms) | p50 ms | p99 ms |',
    '| --- | --- | --- | --- | --- | --- | --- | --- | --- |',
    ...rows.map((r) => `| ${r.name} | ${f(r.scavengesPerSecond)} | ${f(r.meanPauseMs, 2)} | ${f(r.allocatedKiBPerScavenge, 0)} | ${f(r.promotedKiBPerScavenge, 0)} | ${f(r.promotedKiBPerSecond, 0)} | ${r.otherGcs} (${f(r.otherGcMs, 0)}) | ${f(r.latency.p50, 2)} | ${f(r.latency.p99, 2)} |`),
    '',
    ...rows.map((r) => `- **${r.name}**: ${r.what}.`),
    '',
  ].join('\n');
}

// `make test` (node --test dist/test/) loads this file too; there it does nothing.
if (process.env.NODE_TEST_CONTEXT) {
  console.log('test/bench/express-gc.js: benchmark, not a test; run it with make bench');
} else if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  main().catch(async (err) => {
    console.error(err);
    await stopAll();
    process.exit(1);
  });
}
