// `tiermix demo` end to end with small numbers: in-process (report sanity, tiers scaled by the controller's local
// runtime, GPU-seconds split, every process stopped) and as a child process (flags, exit codes, --json, Ctrl-C and a
// killed demo leave no processes behind, the controller's replicas included).
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { formatReport } from '../../../router/demo/format.js';
import { runDemo, type DemoOptions } from '../../../router/demo/run.js';
import type { DemoReport } from '../../../router/demo/report.js';
import { DEFAULT_SIMULATED_VERIFIER, formatVerifierSpec } from '../../../router/verify/simulated-verifier.js';
import { isAlive } from '../../helpers/processes.js';

const cli = fileURLToPath(new URL('../../../router/cli/main.js', import.meta.url));
const projectRoot = fileURLToPath(new URL('../../../../', import.meta.url)); // dist/test/integration/demo -> project
const SMALL = ['--requests', '20', '--concurrency', '4', '--time-scale', '0.02'];

function realDataDir(): string | undefined {
  const candidates = [process.env.TIERMIX_DATA, `${projectRoot}../shared/data/mmlu-pro`];
  return candidates.find((d): d is string => !!d && existsSync(`${d}/outcomes.jsonl.gz`));
}

async function waitGone(pids: number[], ms = 10_000): Promise<number[]> {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline && pids.some(isAlive)) await new Promise((r) => setTimeout(r, 50));
  return pids.filter(isAlive);
}

/** Direct children of pid, from /proc (Linux). */
function childrenOf(pid: number): number[] {
  const out: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      if (ppid === pid) out.push(Number(entry));
    } catch {
      // the process ended while we looked
    }
  }
  return out;
}

const options = (over: Partial<DemoOptions> = {}): DemoOptions => ({
  data: { dir: null, origin: 'none', note: '--data none: generated questions' },
  requests: 20, concurrency: 4, ramp: true, timeScale: 0.02, coldStartSeconds: 10, seed: 1, compare: true,
  policy: { type: 'pomdp', model: 'builtin:default-ladder', classifier: true, objective: { lambda: 0.05 }, costs: 'configured' }, samples: 8,
  verifier: formatVerifierSpec(DEFAULT_SIMULATED_VERIFIER), startupTimeoutSeconds: 60, ...over,
});

/** Direct children of pid and theirs (the controller's replicas), from /proc. */
function descendantsOf(pid: number): number[] {
  const kids = childrenOf(pid);
  return [...kids, ...kids.flatMap(descendantsOf)];
}

function assertSane(r: DemoReport, requests: number): void {
  assert.equal(r.simulated, true);
  assert.match(r.disclaimer.join(' '), /SIMULATION/);
  assert.equal(r.workload.requests, requests);
  assert.deepEqual(r.tiers.map((t) => t.tier), ['ladder/mistral-7b', 'ladder/llama-2-13b', 'ladder/llama-2-70b']);
  assert.equal(r.routed.errors, 0, JSON.stringify(r.errors));
  assert.equal(r.routed.answered, requests);
  // Every request is answered by one tier and asks its first tier once, then one more per escalation (the POMDP
  // may start above the smallest tier and skip tiers, so the per-tier counts need not chain).
  assert.equal(r.tiers.reduce((s, t) => s + t.answered, 0), requests);
  assert.equal(r.tiers.reduce((s, t) => s + t.asked, 0), requests + r.routed.escalations);
  assert.equal(r.tiers[2]!.escalationsOut, 0);
  assert.equal(r.routed.escalations, r.tiers.reduce((s, t) => s + t.escalationsOut, 0));
  if (r.policy.type === 'threshold') {
    assert.equal(r.tiers[0]!.asked, requests);
    for (let i = 1; i < r.tiers.length; i++) assert.equal(r.tiers[i]!.asked, r.tiers[i - 1]!.escalationsOut);
  }
  assert.ok(r.metricsCheck.ok, JSON.stringify(r.metricsCheck.checks.filter((c) => !c.ok)));
  assert.ok(r.metricsCheck.checks.length >= 9);
  assert.ok(r.routed.accuracy !== null && r.routed.accuracy >= 0 && r.routed.accuracy <= 1);
  assert.ok(r.routed.gpuSecondsPerRequest! > 0);
  assert.ok(r.routed.latencyP50! > 0 && r.routed.latencyP99! >= r.routed.latencyP50!);
  assert.ok(r.tiers.every((t) => t.gpuSeconds >= 0));
  // The controller's part: a replicas line per tier, the meter's split per tier, per request and per 1k tokens.
  const s = r.scaling!;
  assert.ok(s, 'the report has the autoscaling part');
  assert.deepEqual(s.timeline.tiers.map((t) => t.tier), r.tiers.map((t) => t.tier));
  for (const t of s.timeline.tiers) assert.match(t.strip, /^ *[1-9][0-9+ ]*$/, `${t.tier}: ${t.strip}`);
  assert.ok(s.metered.every((m) => m.split.serving >= 0 && m.split.idle >= 0 && m.split.loading >= 0));
  assert.ok(s.metered.reduce((n, m) => n + m.split.serving, 0) > 0, 'the meter saw replicas serving');
  assert.deepEqual(s.costs.rows.map((c) => c.tier), r.tiers.map((t) => t.tier));
  const first = s.costs.rows[0]!;
  assert.ok(first.answerCalls > 0 && first.attributedPerRequest! > 0 && first.attributedPer1kTokens! > 0 && first.meteredPerRequest! > 0, JSON.stringify(first));
}

describe('tiermix demo in-process', () => {
  it('runs generated questions, reports consistent numbers and stops its children', async () => {
    let progress = '';
    const { report, processes } = await runDemo(options(), { stderr: { write: (s: string) => (progress += s) } });
    assertSane(report, 20);
    assert.equal(report.policy.type, 'pomdp');
    assert.equal((report.policy.atEnd as { policy?: string } | undefined)?.policy, 'pomdp', 'the router ran the POMDP');
    assert.ok(report.modelledCost && report.modelledCost.routed! > 0 && report.modelledCost.alwaysLargest! > 0);
    assert.equal(report.data.source, 'generated');
    assert.ok(report.alwaysLargest);
    assert.equal(report.alwaysLargest.errors, 0);
    assert.equal(report.alwaysLargest.escalations, 0);
    // The pinned phase returns the largest model's answers: its accuracy is the generated outcomes'.
    assert.equal(report.alwaysLargest.accuracy, report.baselines.alwaysLargest);
    assert.match(progress, /routed \(model ladder\): 20\/20 done/);
    assert.match(progress, /always-largest \(model ladder\/llama-2-70b\): 20\/20 done/);
    // The controller and the router, and the controller's replicas: at least one per tier.
    assert.deepEqual(processes.slice(0, 2).map((p) => p.name), ['controller', 'router']);
    assert.ok(processes.filter((p) => p.name.startsWith('replica ')).length >= 3, JSON.stringify(processes));
    assert.deepEqual(await waitGone(processes.map((p) => p.pid), 1000), [], 'no process left running');
  });

  it('scales tiers up under the ramp and back down, and meters serving, idle and loading GPU-seconds', async () => {
    // At time scale 0.02 a replica's process start (a few wall seconds on a busy machine) is minutes of modelled cold
    // start, and the autoscaler holds replicas for the longer of that and the scale-down delay: a delay of 300 s keeps
    // the hold at the delay, a whole number of ticks.
    const { report, processes } = await runDemo(options({ requests: 160, concurrency: 24, compare: false, scaleDownDelaySeconds: 300 }), { stderr: { write: () => true } });
    assertSane(report, 160);
    const s = report.scaling!;
    const smallest = s.timeline.tiers[0]!;
    assert.ok(smallest.ups >= 1 && smallest.peak >= 2, `the smallest tier scaled up: ${JSON.stringify(s.timeline.tiers)}`);
    const up = s.events.find((e) => e.tier === smallest.tier && e.to > e.from)!;
    assert.match(up.reason, /target 4 -> \d/, 'the reason quotes the load and the target');
    assert.ok(s.coolDown.settled, `back at the minimum: ${JSON.stringify(s.timeline.tiers)}`);
    assert.ok(smallest.downs >= 1 && smallest.final === 1);
    assert.ok(s.events.some((e) => e.to < e.from && /scale down/.test(e.reason)));
    const meter = s.metered.find((m) => m.tier === smallest.tier)!;
    // Idle: the replicas kept for the scale-down delay; loading: the ones the autoscaler added.
    assert.ok(meter.split.serving > 0 && meter.split.idle > 0 && meter.split.loading > 0, JSON.stringify(meter));
    const text = formatReport(report);
    assert.match(text, /Replicas over time/);
    assert.match(text, new RegExp(`${smallest.tier}\\s+ *1+[2-4]+.*1\\n`), 'the replicas line goes up and back to 1');
    assert.match(text, /GPU-seconds per tier held by the replicas[^\n]*\n\s+tier\s+GPUs\/replica\s+serving\s+idle\s+loading/);
    assert.match(text, /GPU-s\/request\s+GPU-s\/1k tokens/);
    assert.deepEqual(await waitGone(processes.map((p) => p.pid), 1000), []);
  });

  it('runs the threshold policy when asked', async () => {
    const { report } = await runDemo(options({ policy: { type: 'threshold', threshold: 0.5 }, compare: false, requests: 12 }), { stderr: { write: () => true } });
    assertSane(report, 12);
    assert.deepEqual(report.policy.atEnd, { policy: 'threshold', threshold: 0.5 });
  });

  const data = realDataDir();
  it('uses the real MMLU-Pro test split when the data is there', { skip: data ? false : 'MMLU-Pro data not found' }, async () => {
    const { report, processes } = await runDemo(
      options({ data: { dir: data!, origin: 'flag', note: 'test' }, requests: 16, compare: true }),
      { stderr: { write: () => true } },
    );
    assertSane(report, 16);
    assert.equal(report.data.source, 'mmlu-pro');
    assert.equal(report.data.realTexts, true);
    assert.match(report.workload.questions, /test split/);
    // Real recorded texts: the measured always-largest accuracy is the recorded one.
    assert.equal(report.alwaysLargest!.accuracy, report.baselines.alwaysLargest);
    assert.deepEqual(await waitGone(processes.map((p) => p.pid), 1000), []);
  });
});

describe('tiermix demo command', () => {
  const run = (...args: string[]) => spawnSync(process.execPath, [cli, 'demo', ...args], { encoding: 'utf8', timeout: 60_000 });
  const runAsync = (...args: string[]) =>
    new Promise<{ status: number | null; stderr: string }>((resolve) => {
      const p = spawn(process.execPath, [cli, ...args], { stdio: ['ignore', 'ignore', 'pipe'] });
      let stderr = '';
      p.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
      p.once('close', (status) => resolve({ status, stderr }));
    });

  it('--help lists the flags', () => {
    const r = run('--help');
    assert.equal(r.status, 0);
    for (const flag of ['requests', 'concurrency', 'no-ramp', 'scale-down-delay', 'cold-start', 'time-scale', 'data', 'seed', 'no-compare', 'policy', 'lambda', 'budget', 'model', 'no-classifier', 'costs', 'threshold', 'samples', 'verifier', 'startup-timeout', 'json']) {
      assert.ok(r.stdout.includes(`--${flag}`), `--${flag} listed`);
    }
    assert.match(r.stdout, /SIMULATED/);
  });

  it('exits 2 saying what to fix', async () => {
    const cases: [string[], RegExp][] = [
      [['--requests', '0'], /--requests.*must be an integer from 1/],
      [['--concurrency', 'many'], /--concurrency.*must be an integer/],
      [['--time-scale', '0'], /--time-scale.*greater than 0/],
      [['--threshold', '2'], /--threshold.*from 0 to 1/],
      [['--threshold', '0.5'], /--threshold applies to --policy threshold only/],
      [['--policy', 'threshold', '--lambda', '0.1'], /--lambda apply to --policy pomdp only/],
      [['--cold-start', '-1'], /--cold-start.*from 0 to 3600/],
      [['--lambda', '0.1', '--budget', '1'], /--lambda and --budget: choose one/],
      [['--policy', 'oracle'], /--policy.*must be pomdp or threshold/],
      [['--verifier', 'oracle'], /invalid verifier spec/],
      [['--data', '/no/such/folder'], /--data \/no\/such\/folder: no outcomes.jsonl.gz there/],
      [['--bogus'], /unknown option '--bogus'/],
    ];
    // In parallel: each is a node start-up.
    const runs = await Promise.all(cases.map(([args]) => runAsync('demo', ...args)));
    cases.forEach(([args, message], i) => {
      assert.equal(runs[i]!.status, 2, `${args.join(' ')}: ${runs[i]!.stderr}`);
      assert.match(runs[i]!.stderr, message);
    });
  });

  it('--json prints one JSON report on stdout and progress on stderr', () => {
    const r = run(...SMALL, '--data', 'none', '--no-compare', '--json');
    assert.equal(r.status, 0, r.stderr);
    const report = JSON.parse(r.stdout) as DemoReport;
    assertSane(report, 20);
    assert.equal(report.alwaysLargest, null);
    assert.match(r.stderr, /routed \(model ladder\): 20\/20 done/);
  });

  const linux = process.platform === 'linux' ? false : 'needs /proc';

  async function startedDemo(): Promise<{ demo: ChildProcess; kids: number[]; exit: Promise<number | null> }> {
    const demo = spawn(process.execPath, [cli, 'demo', '--data', 'none', '--requests', '5000', '--concurrency', '4', '--time-scale', '0.05'], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const exit = new Promise<number | null>((resolve) => demo.once('exit', (code, signal) => resolve(code ?? (signal ? -1 : null))));
    let err = '';
    await new Promise<void>((resolve, reject) => {
      demo.stderr!.on('data', (d: Buffer) => {
        err += d.toString();
        if (/router ready at/.test(err)) resolve(); // the stack is up and the workload starts
      });
      demo.once('exit', () => reject(new Error(`demo ended early: ${err}`)));
      setTimeout(() => reject(new Error(`no progress within 30 s: ${err}`)), 30_000).unref();
    });
    demo.stdout!.resume();
    // The controller and the router are the demo's children; the replicas are the controller's.
    const kids = descendantsOf(demo.pid!);
    assert.equal(childrenOf(demo.pid!).length, 2, 'the controller and the router');
    assert.ok(kids.length >= 5, `and at least three replicas: ${kids.length} processes`);
    return { demo, kids, exit };
  }

  it('Ctrl-C stops the run and every child, exit 130', { skip: linux }, async () => {
    const { demo, kids, exit } = await startedDemo();
    try {
      demo.kill('SIGINT');
      assert.equal(await exit, 130);
      assert.deepEqual(await waitGone(kids, 2000), [], 'children stopped before the demo exited');
    } finally {
      for (const pid of [demo.pid!, ...kids]) if (isAlive(pid)) process.kill(pid, 'SIGKILL');
    }
  });

  it('a killed demo leaves no children behind', { skip: linux }, async () => {
    const { demo, kids, exit } = await startedDemo();
    try {
      demo.kill('SIGKILL'); // no handler runs: the children notice their parent is gone
      await exit;
      assert.deepEqual(await waitGone(kids, 10_000), []);
    } finally {
      for (const pid of kids) if (isAlive(pid)) process.kill(pid, 'SIGKILL');
    }
  });
});
