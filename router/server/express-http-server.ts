// A node:http server for an express app whose requests and responses are born with express's prototypes.
//
// express gives every request and response its own prototype (Object.setPrototypeOf(req, app.request),
// the same for res) when it starts handling them. Under load that change costs the garbage collector
// dearly: with a small express app at 500 req/s, most of each request's objects survive the next
// scavenge (about 2.4 MiB promoted per scavenge, 5 ms pauses, and mark-compacts later to free that
// garbage), against about 3 KiB and 0.5 ms when the objects already have those prototypes
// (`make bench`, part E: docs/benchmarks/express-gc-2026-11-22.md). node:http lets a server construct its requests
// and responses from constructors we pass, so we construct them with app.request and app.response as
// their prototypes; express's own call then changes nothing.
import http from 'node:http';
import type { Express } from 'express';

/** A constructor that builds a `base` instance whose prototype is `prototype` (a descendant of base.prototype). */
function constructorWithPrototype<C extends abstract new (...args: never) => object>(base: C, prototype: object): C {
  const callable = base as unknown as (this: object, ...args: unknown[]) => void;
  // node's IncomingMessage and ServerResponse are plain functions (Node 20 to 24): call them on `this`
  // as node's own subclasses do. Reflect.construct would work for classes too, but in scratch runs it
  // still promoted 300-430 KB per scavenge (docs/benchmarks/profiling-2026-11-22.md, not part of
  // `make bench`), so it is only the fallback for a Node where they became classes.
  const ctor = /^class\b/.test(Function.prototype.toString.call(base))
    ? function (this: unknown, ...args: unknown[]): object {
        return Reflect.construct(base as unknown as new (...a: unknown[]) => object, args, ctor);
      }
    : function (this: object, ...args: unknown[]): void {
        callable.apply(this, args);
      };
  ctor.prototype = prototype;
  return ctor as unknown as C;
}

/** http.createServer(app), with requests and responses constructed as express will want them. */
export function createExpressServer(app: Express): http.Server {
  if (!(app.request instanceof http.IncomingMessage) || !(app.response instanceof http.ServerResponse)) {
    // An express whose prototypes do not descend from node's would break requests; keep express's own way.
    return http.createServer(app);
  }
  return http.createServer(
    {
      IncomingMessage: constructorWithPrototype<typeof http.IncomingMessage>(http.IncomingMessage, app.request),
      ServerResponse: constructorWithPrototype<typeof http.ServerResponse>(http.ServerResponse, app.response),
    },
    app,
  );
}
