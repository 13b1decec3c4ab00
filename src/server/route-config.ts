import type { FastifyContextConfig, FastifyRequest } from 'fastify';

/** A route's config as Fastify keeps it: what the route declared, plus its URL pattern and method. */
export type RouteConfig = FastifyContextConfig & { url?: string; method?: string };

declare module 'fastify' {
  interface FastifyRequest {
    /** The route's config, once read (see routeConfigOf); null until then. */
    routeConfig: RouteConfig | null;
  }
}

/**
 * The config of the route a request matched, read once per request. Fastify's `request.routeOptions` builds a new
 * object of a dozen members on every read, and the server's hooks read the route three times a request (access,
 * quiet routes, the log line).
 */
export function routeConfigOf(request: FastifyRequest): RouteConfig {
  let config = request.routeConfig;
  if (config === null || config === undefined) {
    config = (request.routeOptions.config ?? {}) as RouteConfig;
    request.routeConfig = config;
  }
  return config;
}

/** Declares `routeConfig` on every request of the app (one object shape); call it before routes are added. */
export function declareRouteConfig(app: { hasRequestDecorator(name: string): boolean; decorateRequest(name: string, value: unknown): unknown }): void {
  if (!app.hasRequestDecorator('routeConfig')) app.decorateRequest('routeConfig', null);
}
