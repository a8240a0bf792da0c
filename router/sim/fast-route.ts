// POST /v1/completions and /v1/chat/completions straight on node:http, in front of express. At zero
// latency express's router and body-parser cost more CPU than answering (a benchmark runs three of these
// simulators on the cores of the router it measures), so the usual request skips them.
//
// It takes only what it answers exactly as express would: the exact path, a server that is ready, and a
// body express.json would read as plain UTF-8 JSON (Content-Type application/json, optionally with
// charset=utf-8; a Content-Length within the limit; no Transfer-Encoding or Content-Encoding). Everything
// else, checked before anything is read or drawn, goes to express unchanged. For what it takes it does
// what the express stack does, in the same order: the x-tiermix-simulated header, fault draws, body-parser's
// strict JSON rules and error messages, then the same handler and the same error replies.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { isPlainJson, readExactBody } from '../server/json-body.js';
import { handleGeneration, type Endpoint, type GenerationContext } from './generation.js';

export interface FastRouteSetup {
  ctx: GenerationContext;
  ready(): boolean;
  /** Body-size limit of express.json, in bytes. */
  limitBytes: number;
  /** The fault draws, shared with express's fault middleware; true when the request was answered. */
  injectFault(req: IncomingMessage, res: ServerResponse): boolean;
  /** The reply express's error middleware gives for an error thrown while handling a request. */
  replyError(err: unknown, res: ServerResponse): void;
}

function endpointOf(method: string | undefined, url: string | undefined): Endpoint | undefined {
  if (method !== 'POST') return undefined;
  if (url === '/v1/completions') return 'completion';
  return url === '/v1/chat/completions' ? 'chat' : undefined;
}

/**
 * JSON in UTF-8, as the router's body reader takes it, but a request without a Content-Type is not taken here:
 * the simulator's express.json reads only JSON content types, as vLLM does.
 */
const isJsonContentType = (type: string | undefined) => type !== undefined && isPlainJson(type);

/** An error shaped like body-parser's, for the error reply. */
function bodyError(message: string, type: string): Error {
  return Object.assign(new Error(message), { status: 400, type });
}

/**
 * body-parser's error for a body that is neither an object nor an array: the native message for the text
 * masked by '#' from its first character on, with the characters put back.
 */
function strictViolation(text: string, first: string | undefined): Error {
  const index = first === undefined ? -1 : text.indexOf(first);
  const partial = index === -1 ? '' : text.substring(0, index) + '#'.repeat(text.length - index);
  try {
    JSON.parse(partial);
  } catch (err) {
    return bodyError((err as Error).message.replace(/#+/g, (mask) => text.substring(index, index + mask.length)), 'entity.parse.failed');
  }
  return bodyError('strict violation', 'entity.parse.failed');
}

/**
 * body-parser's strict JSON (express.json's default): a leading BOM dropped, an empty body read as {},
 * only an object or an array at the top, and its error messages.
 */
export function parseStrictJson(text: string): unknown {
  if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
  if (text.length === 0) return {};
  if (text[0] !== '{' && text[0] !== '[') {
    const first = /^[\x20\x09\x0a\x0d]*([^\x20\x09\x0a\x0d]|$)/.exec(text)?.[1] || undefined;
    if (first !== '{' && first !== '[') throw strictViolation(text, first);
  }
  try {
    return JSON.parse(text);
  } catch (err) {
    throw bodyError((err as Error).message, 'entity.parse.failed');
  }
}

/** A request listener for node:http that answers what it takes and returns false for the rest. */
export function fastGenerationRoute(setup: FastRouteSetup): (req: IncomingMessage, res: ServerResponse) => boolean {
  return (req, res) => {
    const endpoint = endpointOf(req.method, req.url);
    if (endpoint === undefined || !setup.ready()) return false;
    const h = req.headers;
    const length = h['content-length'];
    if (length === undefined || h['transfer-encoding'] !== undefined || h['content-encoding'] !== undefined || !isJsonContentType(h['content-type'])) {
      return false;
    }
    const expected = Number(length);
    if (!(expected <= setup.limitBytes)) return false;

    res.setHeader('x-tiermix-simulated', 'true');
    if (setup.injectFault(req, res)) return true;
    readExactBody(req, expected, (err, bytes) => {
      let body: unknown;
      try {
        if (err) throw err;
        body = parseStrictJson(bytes.toString('utf8'));
      } catch (e) {
        return setup.replyError(e, res);
      }
      handleGeneration(endpoint, setup.ctx, body, res).catch((e: unknown) => setup.replyError(e, res));
    });
    return true;
  };
}
