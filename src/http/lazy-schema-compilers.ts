/**
 * @module http/lazy-schema-compilers
 * Fastify's own schema compilers (Ajv for validation, fast-json-stringify for responses), each
 * route's schema compiled on the route's first use instead of at start. Compiling every route's
 * schemas, and loading Ajv and fast-json-stringify to do it, was the largest single share of a
 * server's start (about a third of the hub alone's CPU to `/readyz`); most routes of a running
 * server are never called in its first seconds, many never. What a route validates and how it
 * serialises are unchanged: the same compilers with the same options compile the same schemas,
 * once, on the first request that needs them.
 *
 * Compiled lazily is not compiled late: once the server has started, `SchemaWarmup` compiles
 * every route's schemas in the background, one route per event-loop turn, so the first request of
 * a route does not pay for loading Ajv and compiling (a first help-desk message on a fresh node
 * waited 320–490 ms behind it, the support bench's 140–192 ms first-step stall).
 *
 * One difference a schema author meets: Fastify lowercases the property names of a `headers`
 * schema only for its built-in compiler, so header schemas must name headers in lowercase, as
 * they arrive (checked when the route is declared, with a message naming the header).
 */
import { createRequire } from 'node:module';
import type { FastifyServerOptions } from 'fastify';

type CompilersFactory = NonNullable<NonNullable<FastifyServerOptions['schemaController']>['compilersFactory']>;
/** What Fastify hands a compiler per route part (the shape both of its compilers take). */
interface RouteSchema {
  schema: unknown;
  method: string;
  url: string;
  httpPart?: string;
}
type Validate = ((data: unknown) => unknown) & { errors?: unknown };
type Serialize = (data: unknown) => string;
/** Fastify's compiler factory: (shared schemas, options) → a compiler of route schemas. */
type Factory<F> = (externalSchemas: unknown, options: unknown) => (route: RouteSchema) => F;

const require = createRequire(import.meta.url);

/**
 * The routes whose schemas are not compiled yet, for one Fastify instance, and the background pass
 * that compiles them: started once the server has started (src/server.ts), one route part per
 * turn (each a few ms at most) so requests and frames interleave; stopped by the server's close.
 */
export class SchemaWarmup {
  private readonly waiting = new Set<() => void>();
  private stopped = false;

  /** A route part's compile, run by the pass unless a request ran it first. */
  add(compile: () => void): void {
    if (!this.stopped) this.waiting.add(compile);
  }

  done(compile: () => void): void {
    this.waiting.delete(compile);
  }

  /** Route parts whose schema is not compiled yet. */
  get pending(): number {
    return this.waiting.size;
  }

  /** Compiles what is waiting, one route part per event-loop turn; resolves when none is left or on stop(). */
  async run(): Promise<void> {
    for (const compile of this.waiting) {
      if (this.stopped) return;
      compile(); // removes itself
      await new Promise<void>((resolve) => setImmediate(resolve));
    }
  }

  stop(): void {
    this.stopped = true;
    this.waiting.clear();
  }
}

/** Header names a `headers` schema declares in anything but lowercase (Fastify lowercases incoming ones). */
function upperCaseHeaderNames(schema: unknown): string[] {
  if (schema === null || typeof schema !== 'object') return [];
  const s = schema as { properties?: Record<string, unknown>; required?: unknown };
  const names = [...Object.keys(s.properties ?? {}), ...(Array.isArray(s.required) ? (s.required as string[]) : [])];
  return names.filter((n) => typeof n === 'string' && n !== n.toLowerCase());
}

/** A fresh pair of compiler factories for one Fastify instance (each keeps its own Ajv pool, as Fastify's default does). */
export function lazySchemaCompilers(warmup = new SchemaWarmup()): CompilersFactory {
  let validatorSelector: Factory<Validate> | undefined;
  let serializerSelector: Factory<Serialize> | undefined;
  // Loaded on the first schema that is used: a server no one calls never loads Ajv.
  const validators = (): Factory<Validate> => (validatorSelector ??= (require('@fastify/ajv-compiler') as () => Factory<Validate>)());
  const serializers = (): Factory<Serialize> => (serializerSelector ??= (require('@fastify/fast-json-stringify-compiler') as () => Factory<Serialize>)());

  const buildValidator: Factory<Validate> = (externalSchemas, options) => {
    let compiler: ((route: RouteSchema) => Validate) | undefined;
    return (route) => {
      if (route.httpPart === 'headers') {
        const upper = upperCaseHeaderNames(route.schema);
        if (upper.length) throw new Error(`${route.method} ${route.url}: name headers in lowercase in a headers schema (${upper.join(', ')}): they are matched as they arrive`);
      }
      let validate: Validate | undefined;
      const compile = () => {
        validate ??= (compiler ??= validators()(externalSchemas, options))(route);
        warmup.done(compile);
      };
      warmup.add(compile);
      // Fastify reads `.errors` off the function it was given after a failed validation.
      const lazy: Validate = (data) => {
        if (validate === undefined) compile();
        const compiled = validate!;
        const valid = compiled(data);
        lazy.errors = compiled.errors;
        return valid;
      };
      return lazy;
    };
  };

  const buildSerializer: Factory<Serialize> = (externalSchemas, options) => {
    let compiler: ((route: RouteSchema) => Serialize) | undefined;
    return (route) => {
      let serialize: Serialize | undefined;
      const compile = () => {
        serialize ??= (compiler ??= serializers()(externalSchemas, options))(route);
        warmup.done(compile);
      };
      warmup.add(compile);
      return (data) => {
        if (serialize === undefined) compile();
        return serialize!(data);
      };
    };
  };

  return { buildValidator, buildSerializer } as unknown as CompilersFactory;
}
