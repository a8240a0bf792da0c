// A JSON answer as express's res.status(status).json(body) writes it with the 'etag' setting off (as the router
// and the simulator run it: vLLM sends no ETag), without express's per-response settings lookups, status check
// and Content-Type re-parsing. The router's completion endpoints and the simulator's generation routes use it.
import type { ServerResponse } from 'node:http';

export function sendJson(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.statusCode = status;
  res.setHeader('Content-Type', 'application/json; charset=utf-8');
  res.setHeader('Content-Length', Buffer.byteLength(text));
  res.end(text);
}
