// The container images, without a Docker engine (none runs here): the Dockerfile's targets follow the rules the chart
// relies on (multi-stage, slim Node LTS, non-root numeric USER matching the chart's runAsUser, exec-form
// entrypoint), the runtime stage's files are enough to start `tiermix router` with the shipped routing model,
// and everything the compiled code imports at run time is a production dependency (so `npm prune --omit=dev`
// leaves a working image).
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { builtinModules } from 'node:module';
import { cpSync, existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { after, describe, it } from 'node:test';
import { freePorts } from '../../k8s/control-plane.js';
import { waitFor } from '../../k8s/wait.js';
import { REPO_ROOT, one, render } from './helm.js';

interface Stage {
  name: string;
  from: string;
  lines: string[];
}
const DOCKERFILE = 'router/Dockerfile';
function stages(): Stage[] {
  const text = readFileSync(join(REPO_ROOT, DOCKERFILE), 'utf8');
  const out: Stage[] = [];
  for (const line of text.split('\n').map((l) => l.trim()).filter((l) => l && !l.startsWith('#'))) {
    const from = /^FROM\s+(\S+)(?:\s+AS\s+(\S+))?$/i.exec(line);
    if (from) out.push({ from: from[1]!, name: from[2] ?? '', lines: [] });
    else out.at(-1)?.lines.push(line);
  }
  return out;
}
const STAGES = stages();
const stage = (name: string) => STAGES.find((s) => s.name === name);
/** A target's base image and its instructions, following `FROM <stage>` back to the first image. */
function target(name: string): { base: string; lines: string[] } {
  const s = stage(name);
  assert.ok(s, `${DOCKERFILE} has a stage named ${name}`);
  if (!stage(s.from)) return { base: s.from, lines: s.lines };
  const parent = target(s.from);
  return { base: parent.base, lines: [...parent.lines, ...s.lines] };
}

const IMAGES = [
  { target: 'router', command: 'router', suffix: '-router' as const },
  { target: 'controller', command: 'controller', suffix: '-controller' as const },
];
const chart = render();

describe(`${DOCKERFILE}: the build stage both images copy from`, () => {
  it('builds on the slim Node LTS image', () => {
    assert.equal(stage('build')?.from, 'node:22-bookworm-slim');
  });

  it('skips the onnxruntime CUDA download, compiles with tsc, then prunes dev dependencies', () => {
    const b = stage('build')!.lines;
    const at = (re: RegExp) => b.findIndex((l) => re.test(l));
    assert.ok(at(/^ENV ONNXRUNTIME_NODE_INSTALL=skip$/) >= 0 && at(/^ENV ONNXRUNTIME_NODE_INSTALL=skip$/) < at(/^RUN npm ci\b/));
    assert.ok(at(/^COPY package\.json package-lock\.json/) < at(/^RUN npm ci\b/), 'dependencies install before sources are copied (layer cache)');
    assert.ok(at(/^RUN npm ci\b/) < at(/^RUN npx tsc -p tsconfig\.json$/));
    assert.ok(at(/^RUN npx tsc/) < at(/^RUN npm prune --omit=dev\b/));
  });

  it('builds the router image when no --target is given (the last stage)', () => {
    assert.equal(STAGES.at(-1)?.name, 'router');
  });
});

for (const image of IMAGES) {
  describe(`${DOCKERFILE} --target ${image.target}`, () => {
    const runtime = target(image.target);

    it('runs from the slim Node LTS image, with files copied from the build stage only', () => {
      assert.equal(runtime.base, 'node:22-bookworm-slim');
      for (const l of runtime.lines.filter((l) => l.startsWith('COPY '))) assert.match(l, /^COPY --from=build /);
    });

    it("runs as the numeric non-root user the chart's securityContext names, with an exec-form entrypoint", () => {
      const user = runtime.lines.find((l) => l.startsWith('USER '));
      assert.equal(user, 'USER 1000:1000');
      const pod = one<{ spec: { template: { spec: { securityContext: { runAsUser: number; runAsGroup: number } } } } }>(chart, 'Deployment', image.suffix);
      assert.equal(pod.spec.template.spec.securityContext.runAsUser, 1000);
      assert.equal(pod.spec.template.spec.securityContext.runAsGroup, 1000);
      assert.ok(runtime.lines.includes('ENTRYPOINT ["node", "dist/router/cli/main.js"]'));
      const cmd = runtime.lines.filter((l) => l.startsWith('CMD ')).at(-1);
      assert.equal((JSON.parse(cmd!.slice(4)) as string[])[0], image.command, 'CMD runs the same subcommand the chart passes');
      assert.ok(!runtime.lines.some((l) => /^RUN\b/.test(l)), 'nothing runs in the runtime stages (no shell needed)');
    });
  });
}

describe('the runtime image layout', () => {
  const dir = mkdtempSync(join(tmpdir(), 'tiermix-image-'));
  after(() => rmSync(dir, { recursive: true, force: true }));

  it("starts `tiermix router` from the router image's files alone, with the shipped POMDP model (3 tiers)", async () => {
    // Copy what the runtime stage copies (from this repository's build; node_modules linked, not copied).
    for (const line of target('router').lines.filter((l) => l.startsWith('COPY --from=build '))) {
      const [src, dst] = line.split(/\s+/).slice(2) as [string, string];
      const from = join(REPO_ROOT, relative('/app', src));
      const to = join(dir, dst);
      if (src.endsWith('node_modules')) symlinkSync(join(REPO_ROOT, 'node_modules'), to);
      else cpSync(from, to, { recursive: true });
    }
    assert.ok(!existsSync(join(dir, 'test')) && !existsSync(join(dir, 'router', 'server')), 'only compiled code and the model');
    const [port] = await freePorts(1);
    writeFileSync(
      join(dir, 'router.yaml'),
      `policy: { type: pomdp, model: "builtin:default-ladder" }\ncascades:\n  - name: ladder\n    tiers:\n      - { name: small, model: m, endpoints: ["http://127.0.0.1:9"] }\n      - { name: medium, model: m2, endpoints: ["http://127.0.0.1:9"] }\n      - { name: large, model: l, endpoints: ["http://127.0.0.1:9"] }\n`,
    );
    const child = spawn(process.execPath, ['dist/router/cli/main.js', 'router', '--config', 'router.yaml', '--port', String(port), '--no-health-checks'], {
      cwd: dir,
      env: { ...process.env, NODE_ENV: 'production' },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    const exited = new Promise<never>((_, reject) => child.once('exit', (code) => reject(new Error(`router exited (${code}): ${stderr}`))));
    try {
      const models = await waitFor(
        'the router to answer /v1/models',
        async () => {
          const r = await fetch(`http://127.0.0.1:${port}/v1/models`);
          return r.ok ? ((await r.json()) as { data: { id: string }[] }) : undefined;
        },
        { timeoutMs: 30_000, abort: exited },
      );
      assert.ok(models.data.some((m) => m.id === 'ladder'));
    } finally {
      child.kill('SIGTERM');
    }
  });

  it('needs only production dependencies at run time (npm prune --omit=dev keeps all the compiled code imports)', () => {
    const pkg = JSON.parse(readFileSync(join(REPO_ROOT, 'package.json'), 'utf8')) as { dependencies: Record<string, string> };
    const builtins = new Set(builtinModules);
    const missing = new Set<string>();
    const walk = (d: string) => {
      for (const name of readdirSync(d)) {
        const p = join(d, name);
        if (statSync(p).isDirectory()) walk(p);
        else if (p.endsWith('.js')) {
          const src = readFileSync(p, 'utf8');
          for (const m of src.matchAll(/(?:from\s+|import\s*\(\s*|import\s+)'([^'.][^']*)'/g)) {
            const spec = m[1]!;
            if (spec.startsWith('node:') || builtins.has(spec)) continue;
            const name = spec.startsWith('@') ? spec.split('/').slice(0, 2).join('/') : spec.split('/')[0]!;
            if (!(name in pkg.dependencies)) missing.add(`${name} (${relative(REPO_ROOT, p)})`);
          }
        }
      }
    };
    walk(join(REPO_ROOT, 'dist', 'router'));
    walk(join(REPO_ROOT, 'dist', 'controller'));
    // A devDependency imported here would crash the pruned image at start-up.
    assert.deepEqual([...missing], []);
  });
});
