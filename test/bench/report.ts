// The benchmark report as Markdown (the same text goes to stdout and to docs/benchmarks/).
import type { Share } from './cpuprofile.js';
import type { LatencySummary } from './load.js';
import type { BenchReport, CpuUse, ProfileRun } from './run.js';

const TARGET_P50 = 1;
const TARGET_P99 = 5;
const TARGET_RPS = 3000;

const f = (x: number, digits = 2) => (Number.isFinite(x) ? x.toFixed(digits) : 'n/a');
const int = (x: number) => (Number.isFinite(x) ? Math.round(x).toLocaleString('en-US') : 'n/a');
const verdict = (ok: boolean) => (ok ? '**PASS**' : '**FAIL**');

function table(head: string[], rows: (string | number)[][]): string {
  const line = (cells: (string | number)[]) => `| ${cells.join(' | ')} |`;
  return [line(head), line(head.map(() => '---')), ...rows.map(line)].join('\n');
}

const cores = (cpu: CpuUse, key: string) => f(cpu.cores[key] ?? NaN);
const simCores = (cpu: CpuUse) => f(Object.entries(cpu.cores).filter(([k]) => k.startsWith('sim')).reduce((n, [, v]) => n + v, 0));
/** Each simulator's cores, in tier order ("0.60 + 0.26 + 0.15"). */
const perSimCores = (cpu: CpuUse) =>
  Object.entries(cpu.cores)
    .filter(([k]) => k.startsWith('sim'))
    .map(([, v]) => f(v))
    .join(' + ');

function latencyCells(l: LatencySummary): string[] {
  return [f(l.p50), f(l.p90), f(l.p99), f(l.mean), f(l.max)];
}

function shares(list: Share[], limit: number, cpuMsPerRequest: number): string {
  return table(
    ['', 'share of busy samples', 'µs per request'],
    list.slice(0, limit).map((s) => [s.name, `${f(s.pct, 1)} %`, int((s.pct / 100) * cpuMsPerRequest * 1000)]),
  );
}

function profileSection(run: ProfileRun): string {
  const p = run.summary;
  const cpu = run.unprofiledCpuMsPerRequest ?? run.cpuMsPerRequest;
  return [
    `#### ${run.name}`,
    '',
    `${int(run.requests)} requests at ${int(run.reqPerSec)} req/s under the profiler; ${int(p.samples)} samples ` +
      `(every ${f(p.samplingIntervalMs, 2)} ms) in the ${int(p.windowMs)} ms load window${p.windowed ? '' : ' (window not located: whole profile)'}, ` +
      `${f((100 * p.busyMs) / Math.max(1, p.busyMs + p.idleMs), 0)} % busy. Under the profiler the router used ${f(run.cpuMsPerRequest, 3)} CPU ms per ` +
      `request (from /proc; the profiler's own work included)` +
      (run.unprofiledCpuMsPerRequest !== null ? `, without it **${f(run.unprofiledCpuMsPerRequest, 3)} ms** (${run.name.startsWith('pinned') ? 'section A' : 'section B, best row'})` : '') +
      `; "µs per request" splits ${f(cpu, 3)} ms by the sample shares.`,
    '',
    'Attributed (each sample charged to the innermost library or tiermix frame on its stack, so the node-core and syscall work a library asks for counts for it):',
    '',
    shares(p.attributed, 12, cpu),
    '',
    'Self time by component (where the CPU actually was):',
    '',
    shares(p.components, 14, cpu),
    '',
    'Top functions (self time):',
    '',
    shares(p.functions, 15, cpu),
  ].join('\n');
}

export function renderMarkdown(r: BenchReport): string {
  const m = r.machine;
  const pt = r.passThrough;
  const rt = r.routed;
  const day = r.date.slice(0, 10);
  const out: string[] = [];
  out.push(`# tiermix router benchmark, ${day}${r.settings.quick ? ' (quick run)' : ''}`);
  out.push('');
  out.push(
    '> **The upstreams are simulators**, not vLLM: `tiermix sim --profile zero --time-scale 0` answers at once (zero ' +
      'latency, no model, no GPU). These numbers are the router\'s own cost, measured with nothing else to wait for; ' +
      'they are not end-to-end LLM latencies.',
  );
  out.push('');
  out.push(
    table(
      ['', ''],
      [
        ['Date', r.date],
        ['CPU', `${m.cpuModel}, ${m.cores} cores${m.virtualized ? ' (virtual machine)' : ''}`],
        ['Memory', `${m.memoryGiB} GiB`],
        ['Node', m.node],
        ['OS', `${m.os} (${m.kernel})`],
        ['Load average at start / end', `${m.loadAverageAtStart.join(' ')} / ${r.loadAverageAtEnd.join(' ')}`],
        ['Busy cores before start (others)', f(r.busyCoresBeforeStart)],
        ['Run time', `${r.durationSeconds} s`],
      ],
    ),
  );
  out.push('');
  out.push(
    'Load generator, router and simulators share these cores. Each table shows the CPU every process used (in cores: CPU ' +
      'seconds per wall second) and "other": busy CPU not used by any of them (other programs on the machine, kernel work).',
  );
  out.push('');
  if (r.maxOtherCores > 0.25) {
    out.push(
      `**Warning: other programs used up to ${f(r.maxOtherCores)} of the ${m.cores} cores during the measurements** ` +
        '("other cores" columns), so latencies and throughputs are pessimistic; the CPU milliseconds per request are the figures least disturbed by that.',
    );
    out.push('');
  }
  out.push('## Targets');
  out.push('');
  out.push(
    table(
      ['Target', 'Measured', 'Result'],
      [
        [`Pass-through overhead at ${pt.rate} req/s, p50 <= ${TARGET_P50} ms`, `${f(pt.overheadP50Ms)} ms`, verdict(pt.pass.p50)],
        [`Pass-through overhead at ${pt.rate} req/s, p99 <= ${TARGET_P99} ms`, `${f(pt.overheadP99Ms)} ms`, verdict(pt.pass.p99)],
        [`Routed requests per second, zero-latency simulators, >= ${int(TARGET_RPS)}`, `${int(rt.best)} req/s (${rt.bestConnections} connections)`, verdict(rt.pass)],
      ],
    ),
  );
  out.push('');

  out.push(`## A. Pass-through overhead at ${pt.rate} req/s`);
  out.push('');
  out.push(
    `The same body (\`${pt.body}\`, ${pt.body.length} bytes) is POSTed to /v1/completions at a steady ${pt.rate} req/s ` +
      `(one request every ${f(1000 / pt.rate, 1)} ms, open loop, keep-alive), either directly to the simulator or through the ` +
      `router with \`model\` naming that tier (pinned: one upstream call, no verification). Each segment: ${pt.warmupSeconds} s ` +
      `warm-up (not recorded), then ${pt.segmentSeconds} s measured; direct and router alternate, ${pt.perRound.length} rounds. ` +
      'Latency runs from the scheduled send time to the last byte of the response, in milliseconds. "client lag" is how late ' +
      'the generator itself sent against its schedule; "router GC" and "loop delay" come from the router\'s own /metrics ' +
      '(prom-client default metrics) read before and after the segment.',
  );
  out.push('');
  out.push(
    table(
      ['Round', 'Target', 'p50', 'p90', 'p99', 'mean', 'max', '> 5 ms', 'ok', 'failed', 'req/s', 'client lag p99', 'router GC (count, ms)', 'router loop delay p99 / max', 'router CPU ms/req', 'sim CPU ms/req', 'router cores', 'sim cores', 'bench cores', 'other cores'],
      pt.segments.map((s) => [
        s.round, s.target, ...latencyCells(s.result.latency), `${f(100 * s.over5ms, 1)} %`, int(s.result.ok), int(s.result.non2xx + s.result.errors + s.result.timeouts),
        int(s.result.achievedRate), f(s.result.sendLag.p99),
        s.router ? `${s.router.gcCount}, ${f(s.router.gcMs, 1)}` : '-',
        s.router ? `${f(s.router.loopDelayP99Ms, 1)} / ${f(s.router.loopDelayMaxMs, 1)}` : '-',
        s.routerCpuMsPerRequest === null ? '-' : f(s.routerCpuMsPerRequest, 3),
        f(s.simCpuMsPerRequest, 3), s.target === 'router' ? cores(s.cpu, 'router') : '-', simCores(s.cpu), f(s.cpu.bench), f(s.cpu.other),
      ]),
    ),
  );
  out.push('');
  out.push(
    table(
      ['All rounds', 'p50', 'p90', 'p99', 'mean', 'max', 'samples'],
      [
        ['direct', ...latencyCells(pt.direct), int(pt.direct.count)],
        ['router (pinned)', ...latencyCells(pt.router), int(pt.router.count)],
        ['**overhead** (router - direct)', `**${f(pt.overheadP50Ms)}**`, f(pt.router.p90 - pt.direct.p90), `**${f(pt.overheadP99Ms)}**`, f(pt.overheadMeanMs), '', ''],
        ['ratio (router / direct)', f(pt.ratioP50), f(pt.router.p90 / pt.direct.p90), f(pt.ratioP99), f(pt.router.mean / pt.direct.mean), '', ''],
      ],
    ),
  );
  out.push('');
  out.push(
    `Per round: ${pt.perRound.map((x) => `round ${x.round} overhead p50 ${f(x.overheadP50Ms)} ms, p99 ${f(x.overheadP99Ms)} ms`).join('; ')}. ` +
      `Failed requests over all segments: ${pt.failures}.`,
  );
  out.push('');
  out.push(`p50 overhead <= ${TARGET_P50} ms: ${verdict(pt.pass.p50)}. p99 overhead <= ${TARGET_P99} ms: ${verdict(pt.pass.p99)}.`);
  out.push('');

  out.push('## B. Routed throughput against zero-latency simulators');
  out.push('');
  out.push(
    `Closed loop (${loadGeneratorName(r.settings.loadGenerator)}): N keep-alive connections each send the next request when the last one is answered, for ` +
      `${r.settings.cannonSeconds} s per row after a warm-up. Requests name the cascade \`${rt.cascade}\` (3 tiers, one simulator ` +
      'process each; the router once per worker count, `tiermix router --workers N`, its CPU summed over its processes), so the router asks the first tier for an answer and for a verification (n=8, max_tokens 250), and ' +
      'escalates to the next tier when the simulated confidence is below 0.5. Upstream calls and escalations are read from the ' +
      'router\'s /metrics (tiermix_upstream_request_seconds_count, tiermix_escalations_total) before and after each row. ' +
      (r.settings.loadGenerator === 'wrk'
        ? 'Latencies are wrk\'s; "bench cores" is wrk\'s CPU (plus the benchmark process\'s own).'
        : 'Latencies are autocannon\'s (whole milliseconds); "bench cores" is autocannon\'s, in the benchmark process.'),
  );
  out.push('');
  out.push(
    table(
      ['Router workers', 'Connections', 'req/s', 'p50 ms', 'p99 ms', '2xx', 'non-2xx', 'errors', 'upstream calls/req (answer + verify)', 'escalations/req', 'router GC (count, ms)', 'router CPU ms/req', 'sims CPU ms/req', 'router cores', 'sims cores (tier 1 + 2 + 3)', 'bench cores', 'other cores', 'machine busy cores'],
      rt.runs.map((x) => [
        x.workers ?? 1, x.load.connections, `**${int(x.load.reqPerSec)}**`, x.load.latencyMs.p50, x.load.latencyMs.p99, int(x.load.total2xx), int(x.load.non2xx), int(x.load.errors),
        `${f(x.upstreamPerRequest)} (${f((x.upstreamByPurpose.answer ?? 0) / x.routedRequests)} + ${f((x.upstreamByPurpose.verify ?? 0) / x.routedRequests)})`,
        f(x.escalationsPerRequest), `${x.runtime.gcCount}, ${f(x.runtime.gcMs, 1)}`, f(x.routerCpuMsPerRequest, 3), f(x.simCpuMsPerRequest, 3), cores(x.cpu, 'router'),
        `${simCores(x.cpu)} (${perSimCores(x.cpu)})`, f(x.cpu.bench), f(x.cpu.other), f(x.cpu.machineBusy),
      ]),
    ),
  );
  out.push('');
  const bestWorkers = rt.bestWorkers ?? 1;
  const best = rt.runs.find((x) => x.load.connections === rt.bestConnections && (x.workers ?? 1) === bestWorkers) ?? rt.runs[0];
  if (best) {
    const perCore = 1000 / best.routerCpuMsPerRequest;
    const all = best.routerCpuMsPerRequest + best.simCpuMsPerRequest;
    const routerShare = (best.cpu.cores.router ?? 0) / Math.max(0.01, best.cpu.machineBusy);
    out.push(
      `Best: **${int(rt.best)} req/s** at ${rt.bestConnections} connections with ${bestWorkers} router worker${bestWorkers > 1 ? 's' : ''}; ` +
        `target >= ${int(TARGET_RPS)}: ${verdict(rt.pass)}. ` +
        `In that row the machine had ${f(best.cpu.machineBusy)} of ${m.cores} cores busy, the router ${f(100 * routerShare, 0)} % of them. ` +
        `At ${f(best.routerCpuMsPerRequest, 3)} router CPU ms per routed request, one core running only the router would serve about ` +
        `${int(perCore)} routed req/s; with the simulators' ${f(best.simCpuMsPerRequest, 3)} ms per request, router + simulators need ` +
        `${f(all, 3)} CPU ms per request, i.e. about ${int((1000 * m.cores) / all)} req/s on ${m.cores} fully used cores before the load generator takes its share.`,
    );
    out.push('');
  }

  out.push('## Context: the simulator alone and bare node:http on this machine');
  out.push('');
  out.push(
    table(
      ['Server', 'What', 'Connections', 'req/s', 'p50 ms', 'p99 ms', 'failed', 'server cores', 'bench cores', 'other cores'],
      r.context.map((c) => [
        c.name, c.description, c.load.connections, `**${int(c.load.reqPerSec)}**`, c.load.latencyMs.p50, c.load.latencyMs.p99,
        int(c.load.non2xx + c.load.errors), f(Object.values(c.cpu.cores).reduce((a, b) => a + b, 0)), f(c.cpu.bench), f(c.cpu.other),
      ]),
    ),
  );
  out.push('');
  out.push(
    'The bare servers are a yardstick: a routed request costs the router at least one client exchange and two upstream ' +
      'exchanges, so "bare proxy, 2 upstream calls" is about the most a Node process doing that work can serve here.',
  );
  out.push('');

  if (r.profiles.length > 0) {
    out.push('## Where the router spends CPU');
    out.push('');
    out.push(
      'Separate runs with the router started under `node --cpu-prof`; samples are limited to the load window. The timed ' +
        'results above come from runs without the profiler.',
    );
    out.push('');
    for (const p of r.profiles) {
      out.push(profileSection(p));
      out.push('');
    }
  }

  out.push('## Method');
  out.push('');
  out.push('See [README.md](README.md). Reproduce with `make bench` (about 3 minutes). Router configuration used:');
  out.push('');
  out.push('```yaml');
  out.push(r.routerConfig.trimEnd());
  out.push('```');
  out.push('');
  return out.join('\n');
}

/** How the report names the closed-loop load generator. */
function loadGeneratorName(g: BenchReport['settings']['loadGenerator'] | undefined): string {
  return g === 'wrk' ? 'wrk, one thread' : 'autocannon';
}
