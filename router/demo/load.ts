// Sending the workload through the router: a fixed number of requests in flight, each answer scored
// against the gold letter, and the router's tiermix fields kept for the report.
import type { MmluQuestion } from '../sim/dataset.js';
import type { RequestResult, StepRecord } from './types.js';
import { chatBody, isCorrect } from './workload.js';

export interface LoadOptions {
  routerUrl: string;
  /** A cascade name (routed) or a tier name (pinned). */
  model: string;
  questions: readonly MmluQuestion[];
  /** Requests in flight: fixed, or by the index of the next request to send (a ramp; see ramp.ts). */
  concurrency: number | ((nextIndex: number) => number);
  /** Per request, wall milliseconds. */
  timeoutMs: number;
  signal?: AbortSignal;
  onResult?: (r: RequestResult) => void;
}

interface TiermixField {
  tier?: unknown;
  gpu_seconds?: unknown;
  steps?: { tier?: unknown; outcome?: unknown; gpu_seconds?: unknown; answer_seconds?: unknown; verify_seconds?: unknown; verifier_samples?: unknown }[];
}

interface ChatResponse {
  choices?: { message?: { content?: unknown } }[];
  usage?: { prompt_tokens?: unknown; completion_tokens?: unknown };
  tiermix?: TiermixField;
  error?: { message?: unknown };
}

const asNumber = (v: unknown) => (typeof v === 'number' && Number.isFinite(v) ? v : 0);

/** Turn one HTTP exchange into a RequestResult (pure; tested). */
export function resultFrom(q: MmluQuestion, status: number, body: ChatResponse | null, latencySeconds: number): RequestResult {
  const base = { questionId: q.id, status, latencySeconds };
  if (status !== 200 || body === null) {
    const message = typeof body?.error?.message === 'string' ? body.error.message : 'no error message';
    return { ...base, ok: false, tier: null, gpuSeconds: 0, steps: [], correct: null, error: `HTTP ${status}: ${message}` };
  }
  const text = body.choices?.[0]?.message?.content;
  const t = body.tiermix ?? {};
  const steps: StepRecord[] = (t.steps ?? []).map((s) => ({
    tier: String(s.tier), outcome: String(s.outcome), gpuSeconds: asNumber(s.gpu_seconds), seconds: asNumber(s.answer_seconds) + asNumber(s.verify_seconds),
    verified: asNumber(s.verify_seconds) > 0 || asNumber(s.verifier_samples) > 0,
  }));
  if (typeof text !== 'string') {
    return { ...base, ok: false, tier: null, gpuSeconds: 0, steps, correct: null, error: 'HTTP 200 without choices[0].message.content' };
  }
  const usage = { prompt: asNumber(body.usage?.prompt_tokens), completion: asNumber(body.usage?.completion_tokens) };
  return { ...base, ok: true, tier: typeof t.tier === 'string' ? t.tier : null, gpuSeconds: asNumber(t.gpu_seconds), steps, correct: isCorrect(text, q), usage };
}

async function sendOne(o: LoadOptions, q: MmluQuestion): Promise<RequestResult> {
  const started = performance.now();
  const elapsed = () => (performance.now() - started) / 1000;
  const signals = [AbortSignal.timeout(o.timeoutMs), ...(o.signal ? [o.signal] : [])];
  try {
    const res = await fetch(`${o.routerUrl}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(chatBody(o.model, q)),
      signal: AbortSignal.any(signals),
    });
    const text = await res.text();
    let body: ChatResponse | null = null;
    try {
      body = JSON.parse(text) as ChatResponse;
    } catch {
      body = null;
    }
    return resultFrom(q, res.status, body, elapsed());
  } catch (err) {
    if (o.signal?.aborted) throw o.signal.reason;
    const e = err as Error & { cause?: { code?: string } };
    const why = e.name === 'TimeoutError' ? `no answer within ${o.timeoutMs / 1000} s` : `${e.message}${e.cause?.code ? ` (${e.cause.code})` : ''}`;
    return { questionId: q.id, ok: false, status: null, latencySeconds: elapsed(), tier: null, gpuSeconds: 0, steps: [], correct: null, error: why };
  }
}

/**
 * Send every question, keeping `concurrency` in flight (read again before each send, so a ramp takes effect at once);
 * results are in the order of the questions.
 */
export async function runLoad(o: LoadOptions): Promise<RequestResult[]> {
  const n = o.questions.length;
  const results: RequestResult[] = new Array<RequestResult>(n);
  const limit = typeof o.concurrency === 'number' ? () => o.concurrency as number : o.concurrency;
  let next = 0;
  let active = 0;
  await new Promise<void>((resolve, reject) => {
    const pump = () => {
      if (o.signal?.aborted) return reject(o.signal.reason);
      while (next < n && active < Math.max(1, limit(next))) {
        const i = next++;
        active++;
        sendOne(o, o.questions[i]!).then(
          (r) => {
            results[i] = r;
            active--;
            o.onResult?.(r);
            pump();
          },
          reject,
        );
      }
      if (next >= n && active === 0) resolve();
    };
    pump();
  });
  return results;
}

/** The router's policy description for the cascade (POST /v1/route, no model called); null if it cannot say. */
export async function policySnapshot(routerUrl: string, cascade: string, q: MmluQuestion, signal?: AbortSignal): Promise<Record<string, unknown> | null> {
  try {
    const res = await fetch(`${routerUrl}/v1/route`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(chatBody(cascade, q)),
      ...(signal ? { signal } : {}),
    });
    if (!res.ok) return null;
    const body = (await res.json()) as { policy?: Record<string, unknown> };
    return body.policy ?? null;
  } catch {
    if (signal?.aborted) throw signal.reason;
    return null;
  }
}
