// `tiermix sim` as a child process: help, usage errors (exit 2), and a real start and stop.
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';

const cli = fileURLToPath(new URL('../../../router/cli/main.js', import.meta.url));
const run = (...args: string[]) => spawnSync(process.execPath, [cli, 'sim', ...args], { encoding: 'utf8', timeout: 30_000 });

describe('tiermix sim', () => {
  it('--help lists every flag with its default and says it is simulated', () => {
    const r = run('--help');
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /SIMULATED vLLM server/);
    const flags = [
      'model', 'served-model-name', 'data', 'profile', 'max-num-seqs', 'max-waiting', 'kv-capacity-tokens', 'max-model-len',
      'time-scale', 'startup-seconds', 'verifier', 'fail-rate', 'slow-factor', 'drop-rate', 'seed', 'generated-seed', 'host', 'port',
    ];
    const text = r.stdout.replace(/\s+/g, ' ');
    for (const flag of flags) {
      const at = text.indexOf(`--${flag} <`);
      assert.ok(at >= 0, `--${flag} listed`);
      const description = text.slice(at, text.indexOf(' --', at + 3));
      if (flag !== 'model') assert.match(description, /default/, `--${flag} states its default`);
    }
  });

  it('exits 2 with a message on bad flags', () => {
    const cases: [string[], RegExp][] = [
      [[], /required option '--model <name>'/],
      [['--model', 'm', '--time-scale', 'fast'], /--time-scale.*must be a number/],
      [['--model', 'm', '--profile', '8b'], /must be 7b, 13b, 70b or zero/],
      [['--model', 'm', '--fail-rate', '1.5'], /--fail-rate.*from 0 to 1/],
      [['--model', 'm', '--verifier', 'simulated:kappa=-1'], /kappa=-1 must be greater than 0/],
      [['--model', 'm', '--no-such-flag'], /unknown option '--no-such-flag'/],
      [['--model', 'm', '--data', '/no/such/folder'], /has no outcomes.jsonl.gz/],
    ];
    for (const [args, message] of cases) {
      const r = run(...args);
      assert.equal(r.status, 2, `${args.join(' ')}: status ${r.status} signal ${r.signal} stderr ${r.stderr}`);
      assert.match(r.stderr, message);
    }
  });

  it('starts, logs that it is simulated, serves, and stops on SIGTERM', async () => {
    const child = spawn(process.execPath, [cli, 'sim', '--model', 'Llama-2-7b-hf', '--data', 'none', '--port', '0', '--time-scale', '0'], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    try {
      const url = await new Promise<string>((resolve, reject) => {
        let out = '';
        child.stdout.on('data', (d: Buffer) => {
          out += d.toString();
          const m = /listening on (http:\/\/[^"\s]+)/.exec(out);
          if (m) {
            assert.match(out, /SIMULATED vLLM server/);
            resolve(m[1]!);
          }
        });
        child.once('exit', (code) => reject(new Error(`exited ${code}: ${out}`)));
      });
      const res = await fetch(`${url}/health`);
      assert.equal(res.status, 200);
      const exit = new Promise<number | null>((resolve) => child.once('exit', resolve));
      child.kill('SIGTERM');
      assert.equal(await exit, 0);
    } finally {
      if (child.exitCode === null) child.kill('SIGKILL');
    }
  });
});
