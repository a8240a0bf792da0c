// Malformed (and some valid) requests for the router fuzz test, generated from a seed. Each case says what
// the router must answer: an error (4xx, OpenAI error shape, sometimes an exact status and `param`), a
// success (200), or "any" (valid JSON the router may pass on or refuse, but never a 5xx or a hang).
import { brotliCompressSync, deflateSync, gzipSync } from 'node:zlib';

export const TIER = 'fuzz-small';
export const TIER_LARGE = 'fuzz-large';
export const CASCADE = 'fuzz-cascade';
export const API_KEY = 'fuzz-key-4f7c2a9e1b';

export type Expect = 'error' | 'ok' | 'any';

export interface FuzzCase {
  id: number;
  kind: string;
  note: string;
  /** Which router: 'open' (no API keys) or 'keyed' (API keys on). */
  target: 'open' | 'keyed';
  method: string;
  path: string;
  headers: Record<string, string>;
  body?: Buffer;
  /** Send the body with Transfer-Encoding: chunked in pieces instead of a Content-Length. */
  chunked?: boolean;
  expect: Expect;
  /** Exact status the router's contract gives for this error. */
  status?: number[];
  /** `param` must equal this or start with it followed by a dot. */
  param?: string;
  /** For expect 'ok': the answer is a server-sent-event stream. */
  stream?: boolean;
}

// ---- seeded randomness

export type Rng = () => number;

export function mulberry32(seed: number): Rng {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const int = (rng: Rng, lo: number, hi: number) => lo + Math.floor(rng() * (hi - lo + 1));
const pick = <T>(rng: Rng, list: readonly T[]): T => list[Math.floor(rng() * list.length)]!;

function asciiString(rng: Rng, n: number): string {
  let s = '';
  for (let i = 0; i < n; i++) s += String.fromCharCode(int(rng, 0x20, 0x7e));
  return s;
}

/** Random code points from every plane, with combining marks, RTL, zero-width, emoji and lone surrogates. */
function unicodeString(rng: Rng, n: number): string {
  const pools: (() => number)[] = [
    () => int(rng, 0x20, 0x7e),
    () => int(rng, 0xa0, 0x2fff),
    () => int(rng, 0x300, 0x36f),
    () => pick(rng, [0x200b, 0x200c, 0x200d, 0x200e, 0x200f, 0x202e, 0xfeff, 0x2028, 0x2029, 0x0]),
    () => int(rng, 0x590, 0x6ff),
    () => int(rng, 0x4e00, 0x9fff),
    () => int(rng, 0xe000, 0xfffd),
    () => int(rng, 0x1f300, 0x1faff),
    () => int(rng, 0x10000, 0x10ffff),
    () => int(rng, 0xd800, 0xdfff), // a lone surrogate: JSON.stringify writes it as an escape
  ];
  let s = '';
  for (let i = 0; i < n; i++) s += String.fromCodePoint(pick(rng, pools)());
  return s;
}

function randomBytes(rng: Rng, n: number): Buffer {
  const b = Buffer.alloc(n);
  for (let i = 0; i < n; i++) b[i] = int(rng, 0, 255);
  return b;
}

const isJson = (text: string) => {
  try {
    JSON.parse(text);
    return true;
  } catch {
    return false;
  }
};

// ---- request bodies

const chatBody = (model: string): Record<string, unknown> => ({ model, messages: [{ role: 'user', content: 'What is 2+2?' }], max_tokens: 8 });
const completionBody = (model: string): Record<string, unknown> => ({ model, prompt: 'Say hi.', max_tokens: 8 });

type Api = 'chat' | 'completion';
const PATH: Record<Api, string> = { chat: '/v1/chat/completions', completion: '/v1/completions' };
const base = (api: Api, model: string) => (api === 'chat' ? chatBody(model) : completionBody(model));

const JSON_HEADERS = { 'content-type': 'application/json' };

interface Draft extends Omit<FuzzCase, 'id' | 'target' | 'method' | 'headers' | 'body'> {
  target?: 'open' | 'keyed';
  method?: string;
  headers?: Record<string, string>;
  body?: Buffer | string | Record<string, unknown> | unknown[];
}

function finish(d: Draft, id: number): FuzzCase {
  const body = d.body === undefined ? undefined : Buffer.isBuffer(d.body) ? d.body : Buffer.from(typeof d.body === 'string' ? d.body : JSON.stringify(d.body));
  return {
    ...d,
    id,
    target: d.target ?? 'open',
    method: d.method ?? 'POST',
    headers: d.headers ?? JSON_HEADERS,
    ...(body === undefined ? {} : { body }),
  } as FuzzCase;
}

// ---- the catalogue of wrong values per field (each invalid for the router's own validation)

interface FieldCase {
  api: Api | 'both';
  field: string;
  /** Where the value goes: a top-level field or inside the first message. */
  at: 'top' | 'message';
  param: string;
  values: unknown[];
}

const WRONG_TYPES: FieldCase[] = [
  { api: 'both', field: 'model', at: 'top', param: 'model', values: [5, true, {}, [], [TIER], '', null, 0] },
  { api: 'both', field: 'n', at: 'top', param: 'n', values: [0, -1, 1.5, 129, 1e9, '2', true, [], {}] },
  { api: 'both', field: 'temperature', at: 'top', param: 'temperature', values: [-0.1, 2.01, 1e308, -1e308, '1', true, [], {}] },
  { api: 'both', field: 'top_p', at: 'top', param: 'top_p', values: [0, -0.5, 1.01, '0.5', false, [], {}] },
  { api: 'both', field: 'max_tokens', at: 'top', param: 'max_tokens', values: [0, -5, 1.5, '16', true, {}, [], -1e20] },
  { api: 'both', field: 'stop', at: 'top', param: 'stop', values: [5, [1], {}, true, [null], Array(17).fill('x'), [[]], [{}]] },
  { api: 'both', field: 'stream', at: 'top', param: 'stream', values: ['true', 1, 0, {}, [], 'yes'] },
  { api: 'both', field: 'seed', at: 'top', param: 'seed', values: [1.5, 'x', true, {}, []] },
  { api: 'both', field: 'user', at: 'top', param: 'user', values: [5, true, {}, []] },
  { api: 'both', field: 'stream_options', at: 'top', param: 'stream_options', values: ['x', 5, true, [], { include_usage: 'yes' }, { include_usage: 1 }] },
  { api: 'chat', field: 'messages', at: 'top', param: 'messages', values: ['hi', 5, {}, [], [1], [null], ['hi'], [{}], [{ content: 'x' }], [[]], null, true] },
  { api: 'chat', field: 'role', at: 'message', param: 'messages', values: [5, 'wizard', '', null, true, {}, 'USER', ['user']] },
  { api: 'chat', field: 'content', at: 'message', param: 'messages', values: [5, true, {}, [1], [null], [{}], [{ type: 5 }], ['text'], [[]]] },
  { api: 'chat', field: 'name', at: 'message', param: 'messages', values: [5, {}, [], true] },
  { api: 'chat', field: 'logprobs', at: 'top', param: 'logprobs', values: [5, 'yes', {}, 1, []] },
  { api: 'chat', field: 'top_logprobs', at: 'top', param: 'top_logprobs', values: [-1, 21, 1.5, '3', true] },
  { api: 'chat', field: 'max_completion_tokens', at: 'top', param: 'max_completion_tokens', values: [0, -1, 'x', 1.5, {}] },
  { api: 'completion', field: 'prompt', at: 'top', param: 'prompt', values: [5, true, {}, [], [null], [true], [1.5], [{}], [[]], [['a']], null, [[1, 2]]] },
  { api: 'completion', field: 'logprobs', at: 'top', param: 'logprobs', values: [true, -1, 21, 1.5, 'x', {}] },
  { api: 'completion', field: 'echo', at: 'top', param: 'echo', values: ['x', 1, {}, []] },
];

// ---- generators: each draws one case

type Gen = (rng: Rng) => Draft;

const modelFor = (rng: Rng) => (rng() < 0.7 ? TIER : CASCADE);
const apiFor = (rng: Rng): Api => (rng() < 0.5 ? 'chat' : 'completion');

const invalidJson: Gen = (rng) => {
  const fragments = [
    () => asciiString(rng, int(rng, 1, 200)),
    () => `{"model": ${TIER}, "prompt": "hi"}`,
    () => `{'model': '${TIER}', 'prompt': 'hi'}`,
    () => `{"model": "${TIER}", "prompt": "hi",}`,
    () => `{"model": "${TIER}", "prompt": "hi", "max_tokens": NaN}`,
    () => `{"model": "${TIER}", "prompt": "hi", "max_tokens": Infinity}`,
    () => `{"model": "${TIER}", /* comment */ "prompt": "hi"}`,
    () => `{"model": "${TIER}" "prompt": "hi"}`,
    () => `{"model": "${TIER}", "prompt": "hi"}}`,
    () => `{"model": "${TIER}", "prompt": "a\u0001b"}`,
    () => `{"model": "${TIER}", "prompt": "\\x41"}`,
    () => `{"model": "${TIER}", "prompt": "\\u12"}`,
    () => `{"model": "${TIER}", "prompt": undefined}`,
    () => `{"model": "${TIER}", "max_tokens": 016}`,
    () => `{"model": "${TIER}", "max_tokens": .5}`,
    () => `{"model": "${TIER}", "max_tokens": 0x10}`,
    () => `{"model": "${TIER}", "prompt": "hi"} {"model": "${TIER}"}`,
    () => '\u00ff\u00fe{"model": 1}',
    () => `[{"model": "${TIER}"]`,
    () => `{"model": "${TIER}", "prompt": 'hi'}`,
    () => 'nul',
    () => 'tru',
    () => '{',
    () => '"',
    () => `{"model": "${TIER}", "prompt": "unterminated}`,
  ];
  const useBytes = rng() < 0.25;
  let body: Buffer | string = useBytes ? randomBytes(rng, int(rng, 1, 300)) : pick(rng, fragments)();
  if (typeof body === 'string' && isJson(body)) body = body + '}';
  if (Buffer.isBuffer(body) && isJson(body.toString('utf8'))) body = Buffer.concat([body, Buffer.from('{')]);
  return { kind: 'invalid-json', note: useBytes ? 'random bytes' : 'not JSON', path: pick(rng, [PATH.chat, PATH.completion, '/v1/route']), body, expect: 'error', status: [400] };
};

const truncatedJson: Gen = (rng) => {
  const api = apiFor(rng);
  const full = JSON.stringify({ ...base(api, modelFor(rng)), temperature: 0.5, stop: ['\n'], user: 'u' });
  const cut = int(rng, 1, full.length - 1);
  return { kind: 'truncated-json', note: `cut at ${cut} of ${full.length}`, path: PATH[api], body: full.slice(0, cut), expect: 'error', status: [400] };
};

const wrongTopLevel: Gen = (rng) => {
  const api = apiFor(rng);
  const bodies = ['[]', JSON.stringify([base(api, TIER)]), '42', '-1.5e3', '"hello"', `"${TIER}"`, 'null', 'true', 'false', '[null]', '0'];
  const body = pick(rng, bodies);
  return { kind: 'wrong-top-level-type', note: body.slice(0, 40), path: pick(rng, [PATH[api], '/v1/route']), body, expect: 'error', status: [400] };
};

const emptyBody: Gen = (rng) => {
  const api = apiFor(rng);
  const body = pick(rng, ['', ' ', '\n', '{}', '\t\r\n']);
  return { kind: 'empty-body', note: JSON.stringify(body), path: pick(rng, [PATH[api], '/v1/route']), body, expect: 'error', status: [400] };
};

const missingField: Gen = (rng) => {
  const api = apiFor(rng);
  const field = pick(rng, api === 'chat' ? ['model', 'messages'] : ['model', 'prompt']);
  const body = base(api, modelFor(rng));
  delete body[field];
  return { kind: 'missing-field', note: `${api} without ${field}`, path: PATH[api], body, expect: 'error', status: [400], param: field };
};

const wrongType: Gen = (rng) => {
  const fc = pick(rng, WRONG_TYPES);
  const api: Api = fc.api === 'both' ? apiFor(rng) : fc.api;
  const value = pick(rng, fc.values);
  const body = base(api, modelFor(rng));
  if (fc.at === 'top') body[fc.field] = value;
  else (body.messages as Record<string, unknown>[])[0]![fc.field] = value;
  const routePath = rng() < 0.15;
  return {
    kind: 'wrong-type',
    note: `${api} ${fc.field} = ${JSON.stringify(value)?.slice(0, 60)}`,
    path: routePath ? '/v1/route' : PATH[api],
    // /v1/route decides within a cascade; a wrong `model` stays wrong.
    body: routePath && fc.field !== 'model' ? { ...body, model: CASCADE } : body,
    expect: 'error',
    status: [400],
    param: fc.param,
  };
};

/** Numbers outside what JSON or the router accepts, written as raw JSON text (1e400 parses to Infinity). */
const outOfRange: Gen = (rng) => {
  const api = apiFor(rng);
  const [field, raw] = pick(rng, [
    ['max_tokens', '1e400'], ['max_tokens', '-1e400'], ['n', '1e400'], ['temperature', '1e400'], ['top_p', '-1e400'],
    ['max_tokens', '99999999999999999999999'], ['n', '-0'], ['n', '1e3'], ['temperature', '2.0000001'], ['top_p', '1.0000001'],
    ['seed', '1.0000001'], ['max_tokens', '0.9999'],
  ] as const);
  const body = JSON.stringify({ ...base(api, modelFor(rng)), [field]: '__RAW__' }).replace('"__RAW__"', raw);
  // max_tokens 1e23 is an integer to JSON and zod, so the router passes it on and the tier refuses it.
  const routerRejects = !(field === 'max_tokens' && raw === '99999999999999999999999');
  return {
    kind: 'out-of-range-number',
    note: `${api} ${field} = ${raw}`,
    path: PATH[api],
    body,
    expect: 'error',
    status: [400],
    ...(routerRejects ? { param: field } : {}),
  };
};

/** Valid for the router's schema, refused by the tier (vLLM semantics): the 4xx must still be OpenAI-shaped. */
const upstreamRejected: Gen = (rng) => {
  const variants: (() => Partial<Draft>)[] = [
    () => ({ note: 'completion max_tokens 1e9 (beyond the context)', path: PATH.completion, body: { ...completionBody(modelFor(rng)), max_tokens: 1e9 } }),
    () => ({ note: 'chat max_tokens 1e9 (beyond the context)', path: PATH.chat, body: { ...chatBody(modelFor(rng)), max_tokens: 1e9 } }),
    () => ({ note: 'completion prompt token ids [-1, 5]', path: PATH.completion, body: { ...completionBody(TIER), prompt: [-1, 5] } }),
    () => ({ note: 'chat top_logprobs 5 without logprobs', path: PATH.chat, body: { ...chatBody(TIER), top_logprobs: 5 } }),
    () => ({ note: 'chat content part text = 5', path: PATH.chat, body: { ...chatBody(TIER), messages: [{ role: 'user', content: [{ type: 'text', text: 5 }] }] } }),
    () => ({ note: 'streamed completion max_tokens 1e9', path: PATH.completion, body: { ...completionBody(TIER), max_tokens: 1e9, stream: true } }),
  ];
  return { kind: 'upstream-rejected', expect: 'error', status: [400], ...pick(rng, variants)() } as Draft;
};

const unknownModel: Gen = (rng) => {
  const api = apiFor(rng);
  const names = [
    () => asciiString(rng, int(rng, 1, 40)),
    () => unicodeString(rng, int(rng, 1, 20)),
    () => `${TIER} `,
    () => ` ${TIER}`,
    () => TIER.toUpperCase(),
    () => TIER.slice(0, -1),
    () => `${CASCADE}/x`,
    () => '__proto__',
    () => 'constructor',
    () => 'toString',
    () => 'hasOwnProperty',
    () => 'valueOf',
    () => '__defineGetter__',
    () => 'gpt-4o',
    () => 'x'.repeat(int(rng, 1000, 20_000)),
    () => '\u0000',
    () => '../../etc/passwd',
  ];
  let model = pick(rng, names)();
  if (model === TIER || model === CASCADE || model === TIER_LARGE || model === '') model = `${model}?`;
  return { kind: 'unknown-model', note: `model ${JSON.stringify(model.slice(0, 40))}${model.length > 40 ? `... (${model.length} chars)` : ''}`, path: PATH[api], body: { ...base(api, TIER), model }, expect: 'error', status: [404], param: 'model' };
};

const routedMisuse: Gen = (rng) => {
  const variants: (() => Partial<Draft>)[] = [
    () => ({ note: 'chat messages []', path: PATH.chat, body: { ...chatBody(modelFor(rng)), messages: [] }, param: 'messages' }),
    () => ({ note: 'routed chat with no user message', path: PATH.chat, body: { ...chatBody(CASCADE), messages: [{ role: 'system', content: 'be brief' }] }, param: 'messages' }),
    () => ({ note: 'routed chat with only an assistant message', path: PATH.chat, body: { ...chatBody(CASCADE), messages: [{ role: 'assistant', content: 'hi' }] }, param: 'messages' }),
    () => ({ note: 'routed completion with two prompts', path: PATH.completion, body: { ...completionBody(CASCADE), prompt: ['a', 'b'] }, param: 'prompt' }),
    () => ({ note: 'routed completion with token ids', path: PATH.completion, body: { ...completionBody(CASCADE), prompt: [1, 2, 3] }, param: 'prompt' }),
    () => ({ note: 'routed n = 2', path: PATH.completion, body: { ...completionBody(CASCADE), n: 2 }, param: 'n' }),
    () => ({ note: 'routed chat n = 8', path: PATH.chat, body: { ...chatBody(CASCADE), n: 8 }, param: 'n' }),
    () => ({ note: 'completion prompt []', path: PATH.completion, body: { ...completionBody(modelFor(rng)), prompt: [] }, param: 'prompt' }),
  ];
  return { kind: 'empty-or-unroutable', expect: 'error', status: [400], ...pick(rng, variants)() } as Draft;
};

const hugeStrings: Gen = (rng) => {
  const size = int(rng, 20_000, 55_000);
  const big = rng() < 0.5 ? 'a'.repeat(size) : asciiString(rng, size);
  const variants: (() => Partial<Draft>)[] = [
    () => ({ note: `huge model (${size} chars)`, path: PATH.completion, body: { ...completionBody(TIER), model: big }, expect: 'error', status: [404], param: 'model' }),
    () => ({ note: `huge role (${size} chars)`, path: PATH.chat, body: { ...chatBody(TIER), messages: [{ role: big, content: 'x' }] }, expect: 'error', status: [400], param: 'messages' }),
    () => ({ note: `huge prompt (${size} chars)`, path: PATH.completion, body: { ...completionBody(modelFor(rng)), prompt: big }, expect: 'any' }),
    () => ({ note: `huge content (${size} chars)`, path: PATH.chat, body: { ...chatBody(modelFor(rng)), messages: [{ role: 'user', content: big }] }, expect: 'any' }),
    () => ({ note: `huge user (${size} chars)`, path: PATH.completion, body: { ...completionBody(TIER), user: big }, expect: 'any' }),
    () => ({ note: `huge unknown key (${size} chars)`, path: PATH.completion, body: { ...completionBody(TIER), [big.slice(0, 5000)]: 1 }, expect: 'any' }),
  ];
  return { kind: 'huge-string', ...pick(rng, variants)() } as Draft;
};

const overLimit: Gen = (rng) => {
  const limit = BODY_LIMIT;
  const size = int(rng, limit + 1, limit * 3);
  const valid = rng() < 0.6;
  const body = valid
    ? JSON.stringify({ ...completionBody(TIER), prompt: 'b'.repeat(size) })
    : '{"model": "x", "prompt": "' + 'c'.repeat(size);
  const chunked = rng() < 0.3;
  return { kind: 'body-over-limit', note: `${body.length} bytes${chunked ? ', chunked' : ''}${valid ? '' : ', not JSON'}`, path: pick(rng, [PATH.completion, PATH.chat, '/v1/route']), body, chunked, expect: 'error', status: [413] };
};

const contentTypes: Gen = (rng) => {
  const valid = JSON.stringify(completionBody(TIER));
  const variants: (() => Partial<Draft>)[] = [
    () => ({ note: 'text/plain with JSON (read as JSON by design)', headers: { 'content-type': 'text/plain' }, body: valid, expect: 'ok' }),
    () => ({ note: 'no content-type with JSON (read as JSON by design)', headers: {}, body: valid, expect: 'ok' }),
    () => ({ note: 'form-urlencoded body', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: `model=${TIER}&prompt=hi`, expect: 'error', status: [400] }),
    () => ({ note: 'multipart body', headers: { 'content-type': 'multipart/form-data; boundary=XyZ' }, body: `--XyZ\r\nContent-Disposition: form-data; name="model"\r\n\r\n${TIER}\r\n--XyZ--\r\n`, expect: 'error', status: [400] }),
    () => ({ note: 'application/xml body', headers: { 'content-type': 'application/xml' }, body: `<model>${TIER}</model>`, expect: 'error', status: [400] }),
    () => ({ note: 'charset=latin1', headers: { 'content-type': 'application/json; charset=latin1' }, body: valid, expect: 'error', status: [415] }),
    () => ({ note: 'charset=koi8-r', headers: { 'content-type': 'application/json; charset=koi8-r' }, body: valid, expect: 'error', status: [415] }),
    () => ({ note: 'charset=utf-16 on a UTF-8 body', headers: { 'content-type': 'application/json; charset=utf-16' }, body: valid, expect: 'error' }),
    () => ({ note: 'charset=utf-16le on a UTF-16LE body', headers: { 'content-type': 'application/json; charset=utf-16le' }, body: Buffer.from(valid, 'utf16le'), expect: 'any' }),
    () => ({ note: 'content-type garbage', headers: { 'content-type': asciiString(rng, int(rng, 1, 60)).replace(/[\r\n]/g, '') }, body: valid, expect: 'any' }),
    () => ({ note: 'gzip-encoded JSON', headers: { ...JSON_HEADERS, 'content-encoding': 'gzip' }, body: gzipSync(valid), expect: 'ok' }),
    () => ({ note: 'deflate-encoded JSON', headers: { ...JSON_HEADERS, 'content-encoding': 'deflate' }, body: deflateSync(valid), expect: 'ok' }),
    () => ({ note: 'br-encoded JSON', headers: { ...JSON_HEADERS, 'content-encoding': 'br' }, body: brotliCompressSync(valid), expect: 'any' }),
    () => ({ note: 'gzip header on plain JSON', headers: { ...JSON_HEADERS, 'content-encoding': 'gzip' }, body: valid, expect: 'error', status: [400] }),
    () => ({ note: 'deflate header on random bytes', headers: { ...JSON_HEADERS, 'content-encoding': 'deflate' }, body: randomBytes(rng, int(rng, 1, 200)), expect: 'error', status: [400] }),
    () => ({ note: 'br header on random bytes', headers: { ...JSON_HEADERS, 'content-encoding': 'br' }, body: randomBytes(rng, int(rng, 1, 200)), expect: 'error', status: [400] }),
    () => ({ note: 'content-encoding: compress', headers: { ...JSON_HEADERS, 'content-encoding': 'compress' }, body: valid, expect: 'error', status: [415] }),
    () => ({ note: 'content-encoding: x-fuzz', headers: { ...JSON_HEADERS, 'content-encoding': 'x-fuzz' }, body: valid, expect: 'error', status: [415] }),
    () => ({ note: 'content-encoding: gzip, gzip', headers: { ...JSON_HEADERS, 'content-encoding': 'gzip, gzip' }, body: gzipSync(gzipSync(valid)), expect: 'error' }),
    () => ({ note: 'gzip bomb: 1 MB inflated', headers: { ...JSON_HEADERS, 'content-encoding': 'gzip' }, body: gzipSync(`{"model":"${TIER}","prompt":"${' '.repeat(1_000_000)}"}`), expect: 'error', status: [413] }),
    () => ({ note: 'UTF-8 BOM before JSON', headers: JSON_HEADERS, body: Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(valid)]), expect: 'any' }),
  ];
  const v = pick(rng, variants)();
  return { kind: 'content-type-or-encoding', path: PATH.completion, ...v } as Draft;
};

const randomUnicode: Gen = (rng) => {
  const api = apiFor(rng);
  const text = unicodeString(rng, int(rng, 1, 300));
  const variants: (() => Partial<Draft>)[] = [
    () => ({ note: 'unicode prompt/content', path: PATH[api], body: api === 'chat' ? { ...chatBody(modelFor(rng)), messages: [{ role: 'user', content: text }] } : { ...completionBody(modelFor(rng)), prompt: text }, expect: 'ok' }),
    () => ({ note: 'unicode role', path: PATH.chat, body: { ...chatBody(TIER), messages: [{ role: text, content: 'x' }] }, expect: 'error', status: [400], param: 'messages' }),
    () => ({ note: 'unicode keys', path: PATH[api], body: { ...base(api, TIER), [text]: unicodeString(rng, 10), [unicodeString(rng, 5)]: [text] }, expect: 'any' }),
    () => ({ note: 'unicode stop', path: PATH[api], body: { ...base(api, TIER), stop: [text.slice(0, 20) || 'x'] }, expect: 'any' }),
    () => {
      // Invalid UTF-8 inside a JSON string: decoded as U+FFFD, so still a valid request.
      const bytes = randomBytes(rng, int(rng, 1, 40)).map((b) => (b === 0x22 || b === 0x5c || b < 0x20 ? 0x80 : b));
      const body = Buffer.concat([Buffer.from(`{"model":"${TIER}","max_tokens":4,"prompt":"`), bytes, Buffer.from('"}')]);
      return { note: 'invalid UTF-8 bytes inside a string', path: PATH.completion, body, expect: 'any' };
    },
    () => {
      const body = Buffer.concat([Buffer.from(`{"model":"${TIER}",`), randomBytes(rng, int(rng, 1, 20)).map((b) => (b < 0x80 ? b + 0x80 : b)), Buffer.from('"prompt":"x"}')]);
      return { note: 'invalid UTF-8 bytes between tokens', path: PATH.completion, body, expect: 'error', status: [400] };
    },
  ];
  return { kind: 'random-unicode', ...pick(rng, variants)() } as Draft;
};

function deepArray(depth: number): string {
  return '['.repeat(depth) + ']'.repeat(depth);
}
function deepObject(depth: number): string {
  return '{"a":'.repeat(depth) + '1' + '}'.repeat(depth);
}

const deepNesting: Gen = (rng) => {
  const api = apiFor(rng);
  const depth = pick(rng, [64, 1000, 3000, 6000, 10_000, 20_000]);
  const objDepth = Math.min(depth, 8000);
  const shape = rng() < 0.5 ? 'array' : 'object';
  const deep = shape === 'array' ? deepArray(depth) : deepObject(objDepth);
  const shown = shape === 'array' ? depth : objDepth;
  const variants: (() => Partial<Draft>)[] = [
    // An unknown field is passed through to the tier: valid JSON, within the size limit.
    () => ({ note: `unknown field holding ${shown}-deep ${shape}s (${api}, ${TIER})`, path: PATH[api], body: JSON.stringify({ ...base(api, TIER), extra: '__DEEP__' }).replace('"__DEEP__"', deep), expect: 'any' }),
    () => ({ note: `unknown field holding ${shown}-deep ${shape}s (${api}, ${CASCADE})`, path: PATH[api], body: JSON.stringify({ ...base(api, CASCADE), extra: '__DEEP__' }).replace('"__DEEP__"', deep), expect: 'any' }),
    () => ({ note: `stream_options holding ${shown}-deep ${shape}s`, path: PATH[api], body: JSON.stringify({ ...base(api, TIER), stream_options: { include_usage: false, x: '__DEEP__' } }).replace('"__DEEP__"', deep), expect: 'any' }),
    () => ({ note: `message extra field holding ${shown}-deep ${shape}s`, path: PATH.chat, body: JSON.stringify({ ...chatBody(TIER), messages: [{ role: 'user', content: 'x', extra: '__DEEP__' }] }).replace('"__DEEP__"', deep), expect: 'any' }),
    () => ({ note: `prompt = ${shown}-deep ${shape}s`, path: PATH.completion, body: JSON.stringify({ ...completionBody(TIER), prompt: '__DEEP__' }).replace('"__DEEP__"', deep), expect: 'error', status: [400], param: 'prompt' }),
    () => ({ note: `top level = ${shown}-deep ${shape}s`, path: PATH[api], body: deep, expect: 'error', status: [400] }),
    () => ({ note: `/v1/route with ${shown}-deep ${shape}s in tiermix`, path: '/v1/route', body: JSON.stringify({ ...completionBody(CASCADE), tiermix: '__DEEP__' }).replace('"__DEEP__"', deep), expect: 'error', status: [400] }),
  ];
  return { kind: 'deep-nesting', ...pick(rng, variants)() } as Draft;
};

const prototypeKeys: Gen = (rng) => {
  const api = apiFor(rng);
  const raw = (text: string) => text; // bodies written as text so "__proto__" stays an own key
  const b = JSON.stringify(base(api, modelFor(rng))).slice(0, -1);
  const variants: (() => Partial<Draft>)[] = [
    () => ({ note: '__proto__ carrying model (no own model)', path: PATH.completion, body: raw(`{"__proto__":{"model":"${TIER}"},"prompt":"x"}`), expect: 'error', status: [400], param: 'model' }),
    () => ({ note: '__proto__ carrying messages (no own messages)', path: PATH.chat, body: raw(`{"model":"${TIER}","__proto__":{"messages":[{"role":"user","content":"x"}]}}`), expect: 'error', status: [400], param: 'messages' }),
    () => ({ note: 'valid + __proto__ {stream, n, polluted}', path: PATH[api], body: raw(`${b},"__proto__":{"stream":true,"n":5,"polluted":"yes"}}`), expect: 'ok' }),
    () => ({ note: 'valid + constructor.prototype', path: PATH[api], body: raw(`${b},"constructor":{"prototype":{"polluted":"yes","stream":true}}}`), expect: 'ok' }),
    () => ({ note: 'message with __proto__ role', path: PATH.chat, body: raw(`{"model":"${modelFor(rng)}","max_tokens":4,"messages":[{"role":"user","content":"x","__proto__":{"role":"system"}}]}`), expect: 'ok' }),
    () => ({ note: 'stream_options.__proto__', path: PATH[api], body: raw(`${b},"stream_options":{"__proto__":{"include_usage":true}}}`), expect: 'ok' }),
    () => ({ note: '__proto__ = null', path: PATH[api], body: raw(`${b},"__proto__":null}`), expect: 'ok' }),
    () => ({ note: '__proto__ = array', path: PATH[api], body: raw(`${b},"__proto__":[1,2]}`), expect: 'ok' }),
    () => ({ note: 'tiermix.__proto__ on /v1/route', path: '/v1/route', body: raw(`{"model":"${CASCADE}","prompt":"x","tiermix":{"__proto__":{"observations":[]}}}`), expect: 'any' }),
    () => ({ note: 'model = __proto__', path: PATH[api], body: { ...base(api, TIER), model: '__proto__' }, expect: 'error', status: [404], param: 'model' }),
    () => ({ note: 'model = constructor', path: PATH[api], body: { ...base(api, TIER), model: 'constructor' }, expect: 'error', status: [404], param: 'model' }),
  ];
  return { kind: 'prototype-keys', ...pick(rng, variants)() } as Draft;
};

const routeExtras: Gen = (rng) => {
  const b = completionBody(CASCADE);
  const variants: (() => Partial<Draft>)[] = [
    () => ({ note: 'tiermix = 5', body: { ...b, tiermix: 5 }, param: 'tiermix' }),
    () => ({ note: 'tiermix.observations = "x"', body: { ...b, tiermix: { observations: 'x' } }, param: 'tiermix' }),
    () => ({ note: 'observation of an unknown tier', body: { ...b, tiermix: { observations: [{ tier: 'nope', confidence: 0.5 }] } }, param: 'tiermix' }),
    () => ({ note: 'observation confidence 2', body: { ...b, tiermix: { observations: [{ tier: 0, confidence: 2 }] } }, param: 'tiermix' }),
    () => ({ note: 'observation tier 99', body: { ...b, tiermix: { observations: [{ tier: 99, confidence: 0.1 }] } }, param: 'tiermix' }),
    () => ({ note: 'observations going down the cascade', body: { ...b, tiermix: { observations: [{ tier: 1, confidence: 0.1 }, { tier: 0, confidence: 0.1 }] } }, param: 'tiermix' }),
    () => ({ note: '17 observations', body: { ...b, tiermix: { observations: Array.from({ length: 17 }, () => ({ tier: 0, confidence: 0.1 })) } }, param: 'tiermix' }),
    () => ({ note: 'unknown key in tiermix', body: { ...b, tiermix: { observations: [], x: 1 } }, param: 'tiermix' }),
    () => ({ note: 'route to a tier, not a cascade', body: { ...b, model: TIER }, status: [404], param: 'model' }),
  ];
  return { kind: 'route-extras', path: '/v1/route', expect: 'error', status: [400], ...pick(rng, variants)() } as Draft;
};

const badPathOrMethod: Gen = (rng) => {
  const valid = JSON.stringify(completionBody(TIER));
  const variants: (() => Partial<Draft>)[] = [
    () => ({ method: pick(rng, ['GET', 'PUT', 'DELETE', 'PATCH']), path: pick(rng, [PATH.chat, PATH.completion, '/v1/route']), body: valid }),
    () => ({ method: pick(rng, ['POST', 'PUT', 'DELETE', 'PATCH']), path: pick(rng, ['/healthz', '/readyz', '/metrics', '/v1/models']), body: valid }),
    () => ({
      method: pick(rng, ['GET', 'POST']),
      path: pick(rng, [
        '/', '/v1', '/v1/', '/v2/completions', '/v1/complete', '/v1/chat', '/v1/chat/completion', '/v1/embeddings', '/v1/completion',
        '/v1/chat/completions/x', '/v1/completions/x/y', '/v1/models/fuzz-small', '/admin/faults', '/.env', '/v1/%2e%2e/completions',
        '/v1/engines/fuzz-small/completions', '/api/v1/completions', '/v1/completions.json', '/v1/chat//completions',
      ]),
      body: valid,
    }),
    () => {
      const segs = Array.from({ length: int(rng, 1, 4) }, () => encodeURIComponent(asciiString(rng, int(rng, 1, 12))).replace(/%2F/gi, '_'));
      return { method: pick(rng, ['GET', 'POST']), path: `/v1/x-${segs.join('/')}`, body: valid };
    },
    () => ({ method: pick(rng, ['GET', 'POST']), path: pick(rng, ['/v1/%', '/v1/%zz', '/%E0%A4%A', '/v1/completions%00', '/v1/%C0%AF']), body: valid, status: [400, 404] }),
  ];
  const v = pick(rng, variants)();
  return { kind: 'bad-path-or-method', note: `${v.method} ${v.path}`, expect: 'error', status: [404], ...v } as Draft;
};

const badAuth: Gen = (rng) => {
  const values: (() => string | undefined)[] = [
    () => undefined,
    () => '',
    () => 'Bearer',
    () => 'Bearer ',
    () => 'Bearer wrong-key',
    () => `Bearer ${API_KEY}x`,
    () => `Bearer ${API_KEY.slice(0, -1)}`,
    () => `Bearer ${API_KEY.toUpperCase()}`,
    () => API_KEY,
    () => `Basic ${Buffer.from(`user:${API_KEY}`).toString('base64')}`,
    () => `Token ${API_KEY}`,
    () => `Bearer${API_KEY}`,
    () => `Bearer ${API_KEY} ${API_KEY}`,
    () => `Bearer ${asciiString(rng, int(rng, 1, 200))}`,
    () => asciiString(rng, int(rng, 1, 200)),
    () => `Bearer ${'k'.repeat(int(rng, 1000, 8000))}`,
    () => `Bearer \u00e9\u00e8${API_KEY}`,
  ];
  const auth = pick(rng, values)();
  const headers: Record<string, string> = { ...JSON_HEADERS };
  if (auth !== undefined) headers.authorization = auth;
  const [method, path, body] = pick(rng, [
    ['POST', PATH.completion, JSON.stringify(completionBody(TIER))],
    ['POST', PATH.chat, JSON.stringify(chatBody(CASCADE))],
    ['POST', '/v1/route', JSON.stringify(completionBody(CASCADE))],
    ['GET', '/v1/models', undefined],
    ['POST', PATH.completion, '{not json'],
  ] as const);
  const shown = auth === undefined ? '(no header)' : JSON.stringify(auth.length > 50 ? `${auth.slice(0, 50)}... (${auth.length} chars)` : auth);
  return { kind: 'bad-authorization', target: 'keyed', note: `${method} ${path} Authorization ${shown}`, method, path, headers, ...(body === undefined ? {} : { body }), expect: 'error', status: [401] };
};

const oversizedHeader: Gen = (rng) => {
  const n = int(rng, 17_000, 40_000);
  const target = rng() < 0.5 ? 'keyed' : 'open';
  return {
    kind: 'oversized-header',
    target,
    note: `Authorization header of ${n} bytes (beyond node's 16 KiB header limit)`,
    path: PATH.completion,
    headers: { ...JSON_HEADERS, authorization: `Bearer ${'h'.repeat(n)}` },
    body: JSON.stringify(completionBody(TIER)),
    expect: 'error',
    status: [431],
  };
};

// ---- valid requests mixed in

export function validCase(rng: Rng): Draft {
  const variants: (() => Partial<Draft>)[] = [
    () => ({ note: 'pinned chat', path: PATH.chat, body: chatBody(TIER) }),
    () => ({ note: 'pinned completion', path: PATH.completion, body: completionBody(TIER) }),
    () => ({ note: 'pinned completion n=3 on the large tier', path: PATH.completion, body: { ...completionBody(TIER_LARGE), n: 3 } }),
    () => ({ note: 'routed chat', path: PATH.chat, body: { ...chatBody(CASCADE), messages: [{ role: 'system', content: 'Be brief.' }, { role: 'user', content: 'Name a prime number.' }] } }),
    () => ({ note: 'routed completion', path: PATH.completion, body: completionBody(CASCADE) }),
    () => ({ note: 'pinned streamed completion', path: PATH.completion, body: { ...completionBody(TIER), stream: true }, stream: true }),
    () => ({ note: 'routed streamed chat with usage', path: PATH.chat, body: { ...chatBody(CASCADE), stream: true, stream_options: { include_usage: true } }, stream: true }),
    () => ({ note: 'route decision', path: '/v1/route', body: { ...completionBody(CASCADE), tiermix: { observations: [{ tier: 0, confidence: 0.2, answer: 'x' }] } } }),
    () => ({ note: 'list models', method: 'GET', path: '/v1/models' }),
    () => ({ note: 'keyed: pinned completion with the right key', target: 'keyed', path: PATH.completion, body: completionBody(TIER), headers: { ...JSON_HEADERS, authorization: `Bearer ${API_KEY}` } }),
    () => ({ note: 'keyed: routed chat, lower-case scheme', target: 'keyed', path: PATH.chat, body: chatBody(CASCADE), headers: { ...JSON_HEADERS, authorization: `bearer   ${API_KEY}` } }),
  ];
  return { kind: 'valid', expect: 'ok', ...pick(rng, variants)() } as Draft;
}

/** Body limit of the fuzzed routers (small, so over-limit bodies stay cheap to send). */
export const BODY_LIMIT = 65_536;

const GENERATORS: [Gen, number][] = [
  [invalidJson, 10],
  [truncatedJson, 8],
  [wrongTopLevel, 5],
  [emptyBody, 3],
  [missingField, 6],
  [wrongType, 30],
  [outOfRange, 8],
  [upstreamRejected, 5],
  [unknownModel, 8],
  [routedMisuse, 5],
  [hugeStrings, 3],
  [overLimit, 2],
  [contentTypes, 8],
  [randomUnicode, 8],
  [deepNesting, 4],
  [prototypeKeys, 6],
  [routeExtras, 4],
  [badPathOrMethod, 8],
  [badAuth, 10],
  [oversizedHeader, 0.3],
];

/** `count` cases from `seed`; every `validEvery`-th case is a valid request. */
export function generateCases(seed: number, count: number, validEvery = 8, firstId = 0): FuzzCase[] {
  const rng = mulberry32(seed);
  const totalWeight = GENERATORS.reduce((n, [, w]) => n + w, 0);
  const out: FuzzCase[] = [];
  for (let i = 0; i < count; i++) {
    let draft: Draft;
    if (i % validEvery === validEvery - 1) draft = validCase(rng);
    else {
      let r = rng() * totalWeight;
      let gen = GENERATORS[0]![0];
      for (const [g, w] of GENERATORS) {
        if ((r -= w) < 0) {
          gen = g;
          break;
        }
      }
      draft = gen(rng);
    }
    out.push(finish(draft, firstId + i));
  }
  return out;
}
