/**
 * The pino-compatible logger subset wire-auth writes to: Fastify's `app.log`
 * fits, and so does any pino or pino-like logger. Each part takes only the
 * methods it calls (`Pick<WireAuthLogger, 'warn'>` for the policy engine…),
 * so one declaration serves them all.
 * @example createPolicyEngine({ logger: app.log })
 */
export interface WireAuthLogger {
  debug?(obj: Record<string, unknown>, msg?: string): void
  info(obj: Record<string, unknown>, msg?: string): void
  warn(obj: Record<string, unknown>, msg?: string): void
  error(obj: Record<string, unknown>, msg?: string): void
}
