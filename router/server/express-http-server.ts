// A node:http server for an express app whose requests and responses are born with express's prototypes.
//
// express gives every request and response its own prototype (Object.setPrototypeOf(req, app.request),
// the same for res) when it starts handling them. Under load that change costs the garbage collector
// dearly: with a small express app at 500 req/s, most of each request's objects survive the next
// scavenge (2.4-2.6 MiB promoted per scavenge, 4.3-5 ms pauses, and mark-compacts later to free that
// garbage), against about 3 KiB and 0.5 ms when the objects already have those prototypes
// (`make bench`, part E: docs/benchmarks/express-gc-2026-11-22.md). node:http lets a server construct its requests
// and responses from constructors we pass, so we construct them with app.request and app.response as
// their prototypes; express's own call then changes nothing.
import http from 'node:http';
import type { Express } from 'express';

// node's own constructors are plain functions (Node 20 to 24), so ours call them on `this`, as node's
// subclasses do. (If node made them classes, that call would throw at the first request, and the unit
// test test/unit/router/express-http-server.test.ts would fail.) Reflect.construct would also work for
// classes, but in scratch runs it still promoted 300-430 KB per scavenge
// (docs/benchmarks/profiling-2026-11-22.md, not part of `make bench`).
type NodeConstructor = (this: object, ...args: unknown[]) => void;
const incomingMessage = http.IncomingMessage as unknown as NodeConstructor;
const serverResponse = http.ServerResponse as unknown as NodeConstructor;

/**
 * http.createServer(app), with requests and responses constructed as express will want them. `front`, if
 * given, sees every request first and returns true for those it answers itself (the simulator's generation
 * routes); the router passes none.
 */
export function createExpressServer(app: Express, front?: (req: http.IncomingMessage, res: http.ServerResponse) => boolean): http.Server {
  function ExpressRequest(this: object, socket: unknown): void {
    incomingMessage.call(this, socket);
  }
  ExpressRequest.prototype = app.request;
  function ExpressResponse(this: object, req: unknown, options: unknown): void {
    serverResponse.call(this, req, options);
  }
  ExpressResponse.prototype = app.response;
  const listener: http.RequestListener = front
    ? (req, res) => {
        if (!front(req, res)) app(req, res);
      }
    : app;
  return http.createServer(
    {
      IncomingMessage: ExpressRequest as unknown as typeof http.IncomingMessage,
      ServerResponse: ExpressResponse as unknown as typeof http.ServerResponse,
    },
    listener,
  );
}
