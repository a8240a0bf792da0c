// Polling helper shared by the harness and its tests: clear timeouts that say what was awaited and what was seen last.

export interface WaitOptions {
  timeoutMs?: number;
  intervalMs?: number;
  /** Rejects the wait early (e.g. a process exited). */
  abort?: Promise<never>;
}

export class WaitTimeoutError extends Error {
  constructor(
    readonly what: string,
    readonly timeoutMs: number,
    readonly last: string,
  ) {
    super(`timed out after ${timeoutMs} ms waiting for ${what}${last ? ` (last seen: ${last})` : ''}`);
    this.name = 'WaitTimeoutError';
  }
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Calls `probe` until it returns a value other than undefined/false. A probe may throw; the error's message is kept as
 * "last seen" for the timeout message. A string returned through `describe` is also kept.
 */
export async function waitFor<T>(
  what: string,
  probe: () => Promise<T | undefined | false> | T | undefined | false,
  opts: WaitOptions & { describe?: () => string } = {},
): Promise<T> {
  const timeoutMs = opts.timeoutMs ?? 30_000;
  const intervalMs = opts.intervalMs ?? 200;
  const deadline = Date.now() + timeoutMs;
  let last = '';
  let aborted: unknown;
  let abortedSet = false;
  opts.abort?.catch((err: unknown) => {
    aborted = err;
    abortedSet = true;
  });
  for (;;) {
    if (abortedSet) throw aborted;
    try {
      const value = await probe();
      if (value !== undefined && value !== false) return value;
      if (opts.describe) last = opts.describe();
    } catch (err) {
      last = err instanceof Error ? err.message : String(err);
    }
    if (abortedSet) throw aborted;
    if (Date.now() >= deadline) throw new WaitTimeoutError(what, timeoutMs, last.slice(0, 2000));
    await sleep(intervalMs);
  }
}
