// Closed-loop client load through the router with the official `openai` SDK: `concurrency` workers, each sending
// chat completions one after another (routed, or pinned to a tier, as `models` says). SDK retries are off (maxRetries 0), so every failure a client would
// see is counted, never hidden by a retry.
import OpenAI from 'openai';

export interface RequestRecord {
  startedMs: number;
  endedMs: number;
  ok: boolean;
  /** x-tiermix-tier of a successful answer. */
  tier?: string;
  /** Status and message of a failure. */
  error?: string;
}

export interface Load {
  readonly records: readonly RequestRecord[];
  /** Changes the number of workers (new ones start at once; extra ones finish their request and stop). */
  setConcurrency(n: number): void;
  /** Stops sending and waits for the requests in flight. */
  stop(): Promise<void>;
  summary(): { sent: number; ok: number; failed: number; byTier: Record<string, number>; errors: string[] };
}

export interface LoadOptions {
  baseURL: string;
  /** Model of each request in turn: a cascade (routed) or a tier (pinned). */
  models: readonly string[];
  prompts: readonly string[];
  concurrency: number;
  maxTokens?: number;
  timeoutMs?: number;
}

export function startLoad(opts: LoadOptions): Load {
  const client = new OpenAI({ baseURL: opts.baseURL, apiKey: 'unused', maxRetries: 0, timeout: opts.timeoutMs ?? 60_000 });
  const records: RequestRecord[] = [];
  const workers = new Set<Promise<void>>();
  let target = 0;
  let running = 0;
  let next = 0;
  let stopping = false;

  async function one(): Promise<void> {
    const n = next++;
    const prompt = opts.prompts[n % opts.prompts.length]!;
    const model = opts.models[n % opts.models.length]!;
    const startedMs = Date.now();
    try {
      const { data, response } = await client.chat.completions
        .create({ model, messages: [{ role: 'user', content: prompt }], max_tokens: opts.maxTokens ?? 48 })
        .withResponse();
      const tier = response.headers.get('x-tiermix-tier') ?? undefined;
      const ok = data.object === 'chat.completion' && (data.choices[0]?.message.content ?? '').length > 0 && tier !== undefined;
      records.push({ startedMs, endedMs: Date.now(), ok, ...(tier ? { tier } : {}), ...(ok ? {} : { error: 'empty answer or no x-tiermix-tier' }) });
    } catch (err) {
      const e = err as { status?: number; message?: string };
      records.push({ startedMs, endedMs: Date.now(), ok: false, error: `${e.status ?? 'no status'}: ${e.message ?? String(err)}` });
    }
  }

  function spawnWorker(): void {
    running++;
    const w = (async () => {
      while (!stopping && running <= target) await one();
    })().finally(() => {
      running--;
      workers.delete(w);
    });
    workers.add(w);
  }

  const load: Load = {
    records,
    setConcurrency(n) {
      target = n;
      while (!stopping && running < target) spawnWorker();
    },
    async stop() {
      stopping = true;
      await Promise.all([...workers]);
    },
    summary() {
      const byTier: Record<string, number> = {};
      for (const r of records) if (r.tier) byTier[r.tier] = (byTier[r.tier] ?? 0) + 1;
      const failed = records.filter((r) => !r.ok);
      return { sent: records.length, ok: records.length - failed.length, failed: failed.length, byTier, errors: [...new Set(failed.map((r) => r.error ?? ''))].slice(0, 10) };
    },
  };
  load.setConcurrency(opts.concurrency);
  return load;
}
