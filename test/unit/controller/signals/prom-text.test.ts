import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import { parsePrometheusText, PromParseError } from '../../../../controller/signals/index.js';

test('parses names, labels with escapes, special values and timestamps; skips comments', () => {
  const text = [
    '# HELP x_total A counter.',
    '# TYPE x_total counter',
    'x_total{a="1",b="q\\"uo\\\\te\\nnl"} 3.5',
    'plain 42 1700000000000',
    'vllm:num_requests_waiting{model_name="m",engine="0",} 7',
    '  spaced { a = "x" , b="y" }   -1e3  ',
    'inf{le="+Inf"} +Inf',
    'nan NaN',
    '',
  ].join('\n');
  assert.deepEqual(parsePrometheusText(text), [
    { name: 'x_total', labels: { a: '1', b: 'q"uo\\te\nnl' }, value: 3.5 },
    { name: 'plain', labels: {}, value: 42, timestampMs: 1700000000000 },
    { name: 'vllm:num_requests_waiting', labels: { model_name: 'm', engine: '0' }, value: 7 },
    { name: 'spaced', labels: { a: 'x', b: 'y' }, value: -1000 },
    { name: 'inf', labels: { le: '+Inf' }, value: Infinity },
    { name: 'nan', labels: {}, value: NaN },
  ]);
});

test('malformed lines are errors that name the line', () => {
  const bad: [string, RegExp][] = [
    ['ok 1\n{x="1"} 2', /line 2: bad metric name/],
    ['m{a="1" 2', /line 1: expected "," or "}" after label a/],
    ['m{a=1} 2', /line 1: expected a quoted value for label a/],
    ['m{a="1\\t"} 2', /line 1: bad escape \\t in label a/],
    ['m{a="1} 2', /line 1: unterminated value of label a/],
    ['m abc', /line 1: bad value "abc"/],
    ['m', /line 1: expected "value \[timestamp\]" after m/],
    ['m 1 2 3', /line 1: expected "value \[timestamp\]"/],
    ['m 1 1.5', /line 1: bad timestamp "1.5"/],
  ];
  for (const [text, re] of bad) assert.throws(() => parsePrometheusText(text), (e: unknown) => e instanceof PromParseError && re.test(e.message), text);
});

test("round trip through a real prom-client registry's text output", async () => {
  const registry = new Registry();
  const c = new Counter({ name: 'c_total', help: 'h', labelNames: ['tier', 'note'], registers: [registry] });
  const g = new Gauge({ name: 'g', help: 'h', labelNames: ['tier'], registers: [registry] });
  const h = new Histogram({ name: 'lat_seconds', help: 'h', labelNames: ['tier'], buckets: [0.1, 1], registers: [registry] });
  c.inc({ tier: 'a', note: 'with "quotes", a \\ and\na newline' }, 2.25);
  g.set({ tier: 'b' }, 5);
  h.observe({ tier: 'a' }, 0.5);
  h.observe({ tier: 'a' }, 3);
  const samples = parsePrometheusText(await registry.metrics());
  const find = (name: string, labels: Record<string, string>) => samples.find((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v));
  assert.equal(find('c_total', { tier: 'a' })?.labels.note, 'with "quotes", a \\ and\na newline');
  assert.equal(find('c_total', { tier: 'a' })?.value, 2.25);
  assert.equal(find('g', { tier: 'b' })?.value, 5);
  assert.equal(find('lat_seconds_bucket', { tier: 'a', le: '1' })?.value, 1);
  assert.equal(find('lat_seconds_bucket', { tier: 'a', le: '+Inf' })?.value, 2);
  assert.equal(find('lat_seconds_sum', { tier: 'a' })?.value, 3.5);
  assert.equal(find('lat_seconds_count', { tier: 'a' })?.value, 2);
});
