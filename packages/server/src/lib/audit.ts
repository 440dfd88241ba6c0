import type { WireAuthLogger } from '@wire-auth/core'
import type { FastifyRequest } from 'fastify'
import type { MetricsRecorder } from './metrics.js'
import type { AuditRecord, AuthStore } from './store/auth-store.js'

/**
 * Writes one audit line; never throws (a failure is logged). `request`
 * gives the client address (null outside a request: the CLI, a sweep).
 * @internal
 */
export type AuditWriter = (request: FastifyRequest | null, record: Omit<AuditRecord, 'at' | 'ip'> & { at?: number }) => Promise<void>

/** What {@link createAuditWriter} needs. @internal */
export interface AuditWriterDeps {
  store: Pick<AuthStore, 'appendAudit'>
  /** Sign-ins and throttled sign-ins are counted from the records (`options.metrics`), or null. */
  metrics: MetricsRecorder | null
  log: Pick<WireAuthLogger, 'warn'>
}

/**
 * The plugin's {@link AuditWriter}: stamps time and client address, counts
 * sign-ins for the metrics, and logs (never throws) when the store refuses.
 * @internal
 */
export function createAuditWriter({ store, metrics, log }: AuditWriterDeps): AuditWriter {
  return async function audit(request, record) {
    if (metrics !== null) countAudit(metrics, record)
    try {
      await store.appendAudit({ ...record, at: record.at ?? Date.now(), ip: request?.ip ?? null })
    } catch (err) {
      log.warn({ code: 'ERR_STORE_UNAVAILABLE', action: record.action, err }, 'audit record not written')
    }
  }
}

/** Sign-ins and throttled sign-ins, from the audit records every identity provider writes. */
function countAudit(metrics: MetricsRecorder, record: { action: string; detail?: Record<string, unknown> | null }): void {
  if (record.action !== 'login.success' && record.action !== 'login.failure') return
  const detail = record.detail ?? {}
  const via = typeof detail.via === 'string' ? detail.via.slice(0, 32) : 'unknown'
  metrics.login(record.action === 'login.success' ? 'success' : 'failure', via)
  if (detail.reason === 'throttled') metrics.throttle(`login:${typeof detail.scope === 'string' ? detail.scope.slice(0, 32) : 'unknown'}`)
}
