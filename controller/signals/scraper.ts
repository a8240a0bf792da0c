// Scraping the routers' /metrics (as KubeAI's autoscaler scrapes its proxies): every URL is fetched, parsed
// and summed. A router that does not answer keeps its last reading, marked stale, so one router restarting
// or briefly unreachable neither halves the signal nor looks like a counter reset; after dropAfterSeconds
// without an answer it is dropped (it is gone, e.g. scaled down). The note says which routers are stale.
import { resolve4 } from 'node:dns/promises';
import { isIP } from 'node:net';
import type { EngineReading } from '../autoscale/types.js';
import { readEngine } from './engine-reading.js';
import { parsePrometheusText, type PromSample } from './prom-text.js';
import { readRouter, sumReadings, type RouterReading } from './router-reading.js';

export interface SourceStatus {
  url: string;
  ok: boolean;
  /** Last successful scrape (ms), null = never. */
  lastOkMs: number | null;
  error?: string;
}

export interface ScrapeResult {
  atMs: number;
  /** Sum over the fresh routers and the stale ones still kept. */
  reading: RouterReading;
  sources: SourceStatus[];
  /** At least one router (fresh or kept) contributed. */
  hasData: boolean;
  /** Set when some router's reading is old or missing; goes into scaling reasons. */
  staleNote?: string;
}

interface Kept {
  reading: RouterReading;
  atMs: number;
}

export interface ScrapeAttempt {
  url: string;
  reading?: RouterReading;
  error?: string;
}

/** Pure: fold one round of attempts into the kept readings; returns the result and the readings to keep. */
export function combineScrapes(kept: ReadonlyMap<string, Kept>, attempts: readonly ScrapeAttempt[], nowMs: number, dropAfterMs: number): { result: ScrapeResult; kept: Map<string, Kept> } {
  const next = new Map<string, Kept>();
  const sources: SourceStatus[] = [];
  const stale: string[] = [];
  for (const a of attempts) {
    const old = kept.get(a.url);
    if (a.reading) {
      next.set(a.url, { reading: a.reading, atMs: nowMs });
      sources.push({ url: a.url, ok: true, lastOkMs: nowMs });
      continue;
    }
    const error = a.error ?? 'no reading';
    sources.push({ url: a.url, ok: false, lastOkMs: old?.atMs ?? null, error });
    if (old && nowMs - old.atMs <= dropAfterMs) {
      next.set(a.url, old);
      stale.push(`router ${a.url} not answering (${error}); its reading from ${new Date(old.atMs).toISOString()} is kept`);
    } else stale.push(`router ${a.url} not answering (${error})${old ? `; dropped after ${Math.round(dropAfterMs / 1000)}s` : ''}`);
  }
  const readings = [...next.values()].map((k) => k.reading);
  const result: ScrapeResult = { atMs: nowMs, reading: sumReadings(readings), sources, hasData: readings.length > 0 };
  if (stale.length > 0) result.staleNote = stale.join('; ');
  return { result, kept: next };
}

export interface ScraperOptions {
  /** The routers' /metrics URLs (read on every scrape, so the list may change). */
  urls: () => readonly string[];
  /** One URL -> the URLs to scrape; default expandHeadless (one per router pod behind a headless Service). */
  expand?: (url: string) => Promise<string[]>;
  timeoutMs?: number;
  dropAfterSeconds?: number;
  now?: () => number;
}

/** GET a Prometheus endpoint and parse it; throws with a short message on any failure. */
export async function fetchSamples(url: string, timeoutMs: number): Promise<PromSample[]> {
  const res = await fetch(url, { signal: AbortSignal.timeout(timeoutMs), headers: { accept: 'text/plain' } });
  const text = await res.text();
  if (!res.ok) throw new Error(`HTTP ${res.status}`);
  return parsePrometheusText(text);
}

const shortError = (err: unknown): string => {
  const e = err as { name?: string; message?: string; cause?: { code?: string; message?: string } };
  if (e?.name === 'TimeoutError') return 'timeout';
  return e?.cause?.code ?? e?.cause?.message ?? e?.message ?? String(err);
};

/**
 * A headless Service name resolves to one A record per router pod, and each router counts only its own
 * requests, so every pod must be scraped (as KubeAI scrapes each of its proxies): a host name with A records
 * becomes one URL per address. IP literals, and names DNS does not know (localhost from /etc/hosts), stay as given.
 */
export async function expandHeadless(url: string): Promise<string[]> {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    return [url];
  }
  const host = u.hostname.replace(/^\[|\]$/g, '');
  if (isIP(host) !== 0) return [url];
  let addresses: string[];
  try {
    addresses = await resolve4(host);
  } catch {
    return [url];
  }
  if (addresses.length === 0) return [url];
  return addresses.sort().map((a) => {
    const v = new URL(url);
    v.hostname = a;
    return v.toString();
  });
}

export class RouterScraper {
  private kept = new Map<string, Kept>();
  private readonly timeoutMs: number;
  private readonly dropAfterMs: number;
  private readonly now: () => number;

  constructor(private readonly opts: ScraperOptions) {
    this.timeoutMs = opts.timeoutMs ?? 2000;
    this.dropAfterMs = (opts.dropAfterSeconds ?? 300) * 1000;
    this.now = opts.now ?? Date.now;
  }

  async scrape(): Promise<ScrapeResult> {
    const expand = this.opts.expand ?? expandHeadless;
    const urls = [...new Set((await Promise.all(this.opts.urls().map(expand))).flat())];
    const attempts = await Promise.all(
      urls.map(async (url): Promise<ScrapeAttempt> => {
        try {
          return { url, reading: readRouter(await fetchSamples(url, this.timeoutMs)) };
        } catch (err) {
          return { url, error: shortError(err) };
        }
      }),
    );
    const { result, kept } = combineScrapes(this.kept, attempts, this.now(), this.dropAfterMs);
    this.kept = kept;
    return result;
  }
}

/** Each vLLM replica's engine reading (replicas that do not answer are left out); null when none answered. */
export async function scrapeEngines(metricsUrls: readonly string[], timeoutMs = 2000): Promise<EngineReading[] | null> {
  const got = await Promise.all(metricsUrls.map((u) => fetchSamples(u, timeoutMs).then((samples) => readEngine(u, samples), () => null)));
  const ok = got.filter((x): x is EngineReading => x !== null);
  return ok.length === 0 ? null : ok;
}
