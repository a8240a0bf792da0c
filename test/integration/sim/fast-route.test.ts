// The plain node:http route for generation requests (router/sim/fast-route.ts) against the express stack
// it stands in front of: the same request must get the same bytes (status, headers in order, body), errors
// included. The express stack is reached with the same body sent chunked, which the fast route leaves
// to express; a server with the fast route alone shows which requests it takes.
import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import express from 'express';
import { generatedQuestions } from '../../../router/sim/dataset.js';
import { Engine } from '../../../router/sim/engine.js';
import { fastGenerationRoute } from '../../../router/sim/fast-route.js';
import { sendJson } from '../../../router/server/send-json.js';
import { PROFILES } from '../../../router/sim/latency.js';
import { QuestionIndex } from '../../../router/sim/question-index.js';
import { Responder } from '../../../router/sim/responder.js';
import { startSimulator, type RunningSimulator } from '../../../router/sim/server.js';
import { buildVerificationPrompt, VERIFY_STOP } from '../../../router/verify/prompt.js';
import { DEFAULT_SIMULATED_VERIFIER } from '../../../router/verify/simulated-verifier.js';

const MODEL = 'Mistral-7B-v0.1';
const MAX_MODEL_LEN = 4096;

interface Case {
  name: string;
  path?: string;
  body: string | Buffer;
  contentType?: string;
}

const json = (value: unknown) => JSON.stringify(value);
const CASES: Case[] = [
  { name: 'answer', body: json({ model: MODEL, prompt: 'Name one use of a suspension bridge.', max_tokens: 16 }) },
  {
    name: 'verification',
    body: json({
      model: MODEL,
      prompt: buildVerificationPrompt({ context: '', question: 'Name one use of a suspension bridge.', answer: 'It carries a road over a river.' }),
      n: 8,
      temperature: 1,
      max_tokens: 250,
      stop: [VERIFY_STOP],
    }),
  },
  { name: 'chat', path: '/v1/chat/completions', body: json({ model: MODEL, messages: [{ role: 'user', content: 'Tell me about trains.' }], max_tokens: 20 }) },
  { name: 'chat logprobs', path: '/v1/chat/completions', body: json({ messages: [{ role: 'user', content: 'Hi' }], logprobs: true, top_logprobs: 2, max_tokens: 4 }) },
  { name: 'stream', body: json({ prompt: 'Stream me something.', stream: true, stream_options: { include_usage: true }, n: 2, max_tokens: 5 }) },
  { name: 'logprobs and a prompt list', body: json({ prompt: ['a b', 'Tell me of ships.'], logprobs: 2, max_tokens: 6 }) },
  { name: 'token ids (checked by zod)', body: json({ prompt: [1, 2, 3], max_tokens: 4 }) },
  { name: 'charset in the content type', body: json({ prompt: 'x', max_tokens: 3 }), contentType: 'Application/JSON; charset=UTF-8' },
  { name: 'leading BOM', body: Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(json({ prompt: 'bom', max_tokens: 3 }))]) },
  { name: 'empty body', body: '' },
  { name: 'malformed JSON', body: '{"prompt": "x",' },
  { name: 'a string, not an object', body: '"abc"' },
  { name: 'a number after white space', body: ' \n123' },
  { name: 'null', body: 'null' },
  { name: 'an array', body: '[1]' },
  { name: 'wrong types', body: json({ prompt: 5, n: 'x', temperature: -1, max_tokens: 0, logprobs: 50 }) },
  { name: 'wrong chat message', path: '/v1/chat/completions', body: json({ messages: [{ role: '', content: 5 }] }) },
  { name: 'over-long request', body: json({ prompt: 'x', max_tokens: MAX_MODEL_LEN + 10 }) },
  { name: 'over-long prompt', body: json({ prompt: 'word '.repeat(MAX_MODEL_LEN + 1), max_tokens: 5 }) },
  { name: 'unknown model', body: json({ model: 'gpt-5', prompt: 'x' }) },
  { name: 'top_logprobs without logprobs', path: '/v1/chat/completions', body: json({ messages: [{ role: 'user', content: 'Hi' }], top_logprobs: 2 }) },
];

interface Reply {
  status: number;
  statusMessage: string;
  headers: string[];
  body: string;
}

function send(port: number, c: Case, chunked: boolean): Promise<Reply> {
  const body = Buffer.isBuffer(c.body) ? c.body : Buffer.from(c.body);
  const headers: Record<string, string | number> = { 'content-type': c.contentType ?? 'application/json' };
  if (chunked) headers['transfer-encoding'] = 'chunked';
  else headers['content-length'] = body.length;
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port, method: 'POST', path: c.path ?? '/v1/completions', headers, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (d: Buffer) => chunks.push(d));
      res.on('end', () =>
        resolve({ status: res.statusCode!, statusMessage: res.statusMessage!, headers: res.rawHeaders, body: Buffer.concat(chunks).toString('utf8') }),
      );
    });
    req.on('error', reject);
    req.end(body);
  });
}

/** Ids and times vary between two answers; everything else must not. Neither path sends an ETag (vLLM does not). */
function normalised(r: Reply): Reply {
  const body = r.body.replace(/"(cmpl|chatcmpl)-[0-9a-f]{32}"/g, '"$1-<id>"').replace(/"created":\d+/g, '"created":<t>');
  assert.ok(!r.headers.some((h, i) => i % 2 === 0 && h.toLowerCase() === 'etag'), 'no ETag');
  const headers = r.headers.map((value, i) => (r.headers[i - 1] === 'Date' ? '<date>' : value));
  return { ...r, headers, body };
}

describe('fast route for generation requests', () => {
  let sim: RunningSimulator;
  let alone: http.Server;
  let alonePort = 0;

  before(async () => {
    sim = await startSimulator({ model: MODEL, dataDir: null, timeScale: 0, maxModelLen: MAX_MODEL_LEN });
    const engine = new Engine({ profile: PROFILES.zero, maxNumSeqs: 256, maxWaiting: Infinity, kvCapacityTokens: 1_000_000, timeScale: 0, slowFactor: () => 1 });
    const responder = new Responder({
      servedModel: MODEL,
      dataModel: null,
      index: new QuestionIndex(generatedQuestions(50, 1)),
      outputs: new Map(),
      accuracy: 0.5,
      verifier: DEFAULT_SIMULATED_VERIFIER,
    });
    const route = fastGenerationRoute({
      ctx: { servedModelName: MODEL, maxModelLen: MAX_MODEL_LEN, maxWaiting: Infinity, engine, responder },
      ready: () => true,
      limitBytes: 1 << 20,
      injectFault: () => false,
      replyError: (err, res) => {
        res.statusCode = 400;
        res.end(String(err));
      },
    });
    alone = http.createServer((req, res) => {
      if (!route(req, res)) res.writeHead(418).end();
    });
    await new Promise<void>((resolve) => alone.listen(0, '127.0.0.1', resolve));
    alonePort = (alone.address() as AddressInfo).port;
  });

  after(async () => {
    await sim.close();
    alone.closeAllConnections();
    await new Promise((resolve) => alone.close(resolve));
  });

  it('takes the plain requests and leaves chunked ones (and other paths) to express', async () => {
    for (const c of CASES) {
      assert.notEqual((await send(alonePort, c, false)).status, 418, c.name);
      assert.equal((await send(alonePort, c, true)).status, 418, c.name);
    }
    assert.equal((await send(alonePort, { name: 'query', path: '/v1/completions?x=1', body: '{}' }, false)).status, 418);
  });

  it('answers every request with the bytes express gives for it, errors included', async () => {
    const port = sim.port;
    for (const c of CASES) {
      const fast = normalised(await send(port, c, false));
      const viaExpress = normalised(await send(port, c, true));
      assert.deepEqual(fast, viaExpress, c.name);
    }
  });

  it("writes JSON as express's res.json does with etag off (both paths answer with sendJson, so this is checked apart)", async () => {
    const values: [number, unknown][] = [
      [200, { id: 'cmpl-1', choices: [{ text: ' Ünïcödé «» 😀\n', logprobs: null }], usage: { prompt_tokens: 1 } }],
      [400, { error: { message: 'Invalid JSON body: x', type: 'BadRequestError', param: null, code: 400 } }],
      [404, { detail: 'Not Found' }],
      [200, ''],
      [200, []],
      [500, null],
    ];
    const app = express();
    app.disable('x-powered-by');
    app.set('etag', false);
    app.get('/express/:i', (req, res) => void res.status(values[Number(req.params.i)]![0]).json(values[Number(req.params.i)]![1]));
    app.get('/ours/:i', (req, res) => sendJson(res, ...values[Number(req.params.i)]!));
    const server = app.listen(0, '127.0.0.1');
    await new Promise((resolve) => server.once('listening', resolve));
    const port = (server.address() as AddressInfo).port;
    const get = (path: string) =>
      new Promise<Reply>((resolve, reject) => {
        http
          .get({ host: '127.0.0.1', port, path, agent: false }, (res) => {
            const chunks: Buffer[] = [];
            res.on('data', (d: Buffer) => chunks.push(d));
            res.on('end', () => resolve({ status: res.statusCode!, statusMessage: res.statusMessage!, headers: res.rawHeaders, body: Buffer.concat(chunks).toString() }));
          })
          .on('error', reject);
      });
    try {
      for (const i of values.keys()) {
        const theirs = await get(`/express/${i}`);
        assert.deepEqual(normalised(await get(`/ours/${i}`)), normalised(theirs), JSON.stringify(values[i]));
      }
    } finally {
      server.close();
    }
  });

  it('words the errors as vLLM and body-parser do', async () => {
    const byName = (name: string) => CASES.find((c) => c.name === name)!;
    const error = async (name: string) => JSON.parse((await send(sim.port, byName(name), false)).body) as { error: { message: string; code: number } };
    assert.match((await error('malformed JSON')).error.message, /^Invalid JSON body: /);
    assert.match((await error('a string, not an object')).error.message, /^Invalid JSON body: Unexpected token '"', ""abc"" is not valid JSON$/);
    assert.equal((await error('unknown model')).error.code, 404);
    assert.match((await error('over-long prompt')).error.message, /maximum context length is 4096 tokens/);
    assert.match((await error('wrong types')).error.message, /^n: Invalid input: expected number, received string; .*prompt: Invalid input/);
  });
});
