/** Who may call a route; declared by each route in `config.access`, enforced by the server. */
export type RouteAccess = 'public' | 'admin' | 'inference';

declare module 'fastify' {
  interface FastifyContextConfig {
    access?: RouteAccess;
  }
  interface FastifyRequest {
    /** Set by the server's authentication hook for admin and inference routes. */
    principal?: import('../core/auth/authenticator.js').Principal;
  }
}
