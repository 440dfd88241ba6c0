import type { FastifyInstance } from 'fastify'
import { requireOptional } from './optional-dependency.js'

/**
 * The part of a prom-client `Registry` wire-auth uses: pass the host's own
 * (`import { register } from 'prom-client'`) to serve its metrics and
 * wire-auth's together. Structural, so the declarations never need
 * prom-client (an optional peer dependency).
 */
export interface MetricsRegistry {
  metrics(): Promise<string>
  readonly contentType: string
  registerMetric(metric: never): void
}

/** `options.metrics`: opt-in Prometheus metrics (needs the `prom-client` package). */
export interface MetricsOptions {
  /** Route serving the text exposition format. Default `/metrics`; `false`: no route (scrape `registry` yourself). */
  path?: string | false
  /** Registry to add wire-auth's metrics to. Default: a registry of its own. */
  registry?: MetricsRegistry
  /** Prefix of every metric name. Default `wire_auth_`. */
  prefix?: string
}

/** What the plugin feeds the metrics with. @internal */
export interface MetricsRecorder {
  readonly registry: MetricsRegistry
  readonly path: string | false
  /** One fragment render (`render` or `else` hook) finished. */
  render(outcome: 'ok' | 'failed'): void
  /** One socket finished re-validating after a channel event, `seconds` after the event arrived. */
  fanout(seconds: number): void
  /** A sign-in attempt (audit `login.success` / `login.failure`). */
  login(outcome: 'success' | 'failure', via: string): void
  /** A request or sign-in refused by a throttle or rate limit. */
  throttle(scope: string): void
  /** Read at scrape time. */
  gauges(read: { sockets(): number; regions(): number }): void
}

/** Latency buckets of the fan-out histogram, seconds: 0.5 ms … 5 s. */
const FANOUT_BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5]

/**
 * Creates wire-auth's Prometheus metrics with prom-client.
 * @throws `ERR_OPTIONAL_DEPENDENCY_MISSING` when `prom-client` is not installed.
 * @internal
 */
export async function createMetrics(options: MetricsOptions): Promise<MetricsRecorder> {
  await requireOptional('prom-client', 'options.metrics', () => import('prom-client'))
  const client = await import('prom-client')
  const registry = (options.registry ?? new client.Registry()) as unknown as InstanceType<typeof client.Registry>
  const prefix = options.prefix ?? 'wire_auth_'
  const registers = [registry]
  let read: { sockets(): number; regions(): number } = { sockets: () => 0, regions: () => 0 }

  new client.Gauge({
    name: `${prefix}sockets_open`,
    help: 'Open live sockets on this worker.',
    registers,
    collect() {
      this.set(read.sockets())
    },
  })
  new client.Gauge({
    name: `${prefix}regions_mounted`,
    help: 'Regions mounted on the open live sockets of this worker.',
    registers,
    collect() {
      this.set(read.regions())
    },
  })
  const renders = new client.Counter({ name: `${prefix}renders_total`, help: 'Fragment renders (render and else hooks), by outcome.', labelNames: ['outcome'], registers })
  const fanout = new client.Histogram({
    name: `${prefix}fanout_seconds`,
    help: 'From a channel event reaching this worker to one of its sockets being re-validated and sent what changed.',
    buckets: FANOUT_BUCKETS,
    registers,
  })
  const logins = new client.Counter({ name: `${prefix}logins_total`, help: 'Sign-in attempts, by outcome and identity provider.', labelNames: ['outcome', 'via'], registers })
  const throttles = new client.Counter({ name: `${prefix}throttled_total`, help: 'Requests and sign-ins refused by a throttle or rate limit, by scope.', labelNames: ['scope'], registers })
  // Counters appear at 0 from the first scrape, not only after the first event.
  for (const outcome of ['ok', 'failed']) renders.inc({ outcome }, 0)

  return {
    registry: registry as unknown as MetricsRegistry,
    path: options.path === undefined ? '/metrics' : options.path,
    render: (outcome) => renders.inc({ outcome }),
    fanout: (seconds) => fanout.observe(seconds),
    login: (outcome, via) => logins.inc({ outcome, via }),
    throttle: (scope) => throttles.inc({ scope }),
    gauges(readers) {
      read = readers
    },
  }
}

/**
 * Serves the registry at `recorder.path` (text exposition format, no-store).
 * @internal
 */
export function registerMetricsRoute(app: FastifyInstance, recorder: MetricsRecorder): void {
  if (recorder.path === false) return
  app.get(recorder.path, { config: { wireAuth: 'public' } }, async (_request, reply) => {
    const body = await recorder.registry.metrics()
    return reply.header('cache-control', 'no-store').type(recorder.registry.contentType).send(body)
  })
}
