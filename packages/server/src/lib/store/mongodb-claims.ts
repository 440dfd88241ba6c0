import { setTimeout as sleep } from 'node:timers/promises'
import type { Claim } from '@wire-auth/core'
import type { ClaimChange, SessionRecord, UserRecord } from './auth-store.js'
import { isDuplicateKey, toUser, versionKey, type MongoCollections, type UserDoc, type UserState } from './mongodb-documents.js'
import { UserDisabled } from '../errors.js'
import { checkClaims, storeConflict, storeUnavailable, userNotFound } from './store-errors.js'

/**
 * User changes and session reads of `MongoAuthStore`, built only on writes
 * that are atomic on every MongoDB-protocol server.
 *
 * Why not `findOneAndUpdate`: MongoDB applies a conditional update
 * atomically, but FerretDB 1.x reads the matching document, applies the
 * operators in its own process and writes the whole document back — two
 * concurrent `$inc`s lose one, and two `findOneAndUpdate({ usedAt: null })`
 * both "win" (measured: 50 concurrent `$inc` ended at 6). An insert under a
 * unique key, however, is atomic everywhere (the backend's own unique index).
 *
 * So every change of a user is the insert of the next **version slot**
 * (`user_versions`, `_id` = `<userId>:<version>`) holding the whole new
 * state: the writer that inserts `<id>:<v+1>` first owns that transition;
 * the others get a duplicate key, read on from the slot that won and try
 * `v+2`. Slots are never deleted (a deleted key could be inserted again by a
 * writer that read an old version), so the chain of versions has no gaps and
 * the newest slot is the current state. After the insert the writer copies
 * the state into the user document (a hint for readers, not the truth) and
 * strips the payload of the slot before (readers never need it).
 *
 * A reader starts from the user document's copy (version h) and probes
 * `<id>:<h+1>`, `<id>:<h+2>`, … by `_id` until one is missing: usually one
 * extra point read. Sessions keep no claim snapshot that could go stale:
 * `getSession` joins the session with the user's current state, so a session
 * always carries the user's newest name, claims and version.
 * @internal
 */

/** A change of the user state, or null when there is nothing to change. */
export type UserChange = (state: UserState) => Partial<UserState> | null

/** Gives up after this many lost races for one change (never seen: a winner is found every round). */
const MAX_ATTEMPTS = 1000

/** The current state of a user, or null. */
export async function readUser(c: MongoCollections, id: string): Promise<UserDoc | null> {
  const doc = await c.users.findOne({ _id: id })
  if (doc === null) return null
  return advance(c, doc)
}

/** `doc` brought forward to the newest version slot. */
export async function advance(c: MongoCollections, doc: UserDoc): Promise<UserDoc> {
  let current = doc
  let version = doc.version
  for (;;) {
    const slot = await c.userVersions.findOne({ _id: versionKey(doc._id, version + 1) })
    if (slot === null) break
    version = slot.version
    // A stripped slot has a successor (its writer inserted it first): read on.
    if (slot.stripped !== true) current = { ...current, ...stateOf(slot) }
  }
  // Only a slot's successor strips it, so the newest slot always has its payload.
  if (current.version !== version) throw storeUnavailable('MongoAuthStore', 'readUser', undefined, `user version ${version} has no state`)
  return current
}

function stateOf(slot: UserState): UserState {
  return {
    name: slot.name,
    passwordHash: slot.passwordHash,
    claims: slot.claims,
    disabled: slot.disabled,
    tokensMinVersion: slot.tokensMinVersion,
    version: slot.version,
    updatedAt: slot.updatedAt,
  }
}

/** Changes of one user queued inside this process (one store, many requests). */
const queues = new WeakMap<MongoCollections, Map<string, Promise<unknown>>>()

/**
 * Applies `change` to the current state as the next version; a no-op leaves
 * the version alone. Throws `ERR_USER_NOT_FOUND`. Inside one process the
 * changes of a user run one after the other (the losers of a race would only
 * read again); across processes the version slots decide.
 */
export function changeUser(c: MongoCollections, id: string, change: UserChange): Promise<ClaimChange> {
  let byUser = queues.get(c)
  if (byUser === undefined) queues.set(c, (byUser = new Map()))
  const previous = byUser.get(id) ?? Promise.resolve()
  const run = previous.then(
    () => applyChange(c, id, change),
    () => applyChange(c, id, change),
  )
  const tail = run.catch(() => undefined)
  byUser.set(id, tail)
  void tail.then(() => {
    if (byUser.get(id) === tail) byUser.delete(id)
  })
  return run
}

async function applyChange(c: MongoCollections, id: string, change: UserChange): Promise<ClaimChange> {
  let doc = await readUser(c, id)
  if (doc === null) throw userNotFound()
  for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
    const patch = change(doc)
    if (patch === null) return finishChange(c, toUser(doc))
    const state: UserState = { ...stateOf(doc), ...patch, version: doc.version + 1, updatedAt: Date.now() }
    try {
      await c.userVersions.insertOne({ _id: versionKey(id, state.version), userId: id, ...state })
    } catch (err) {
      if (!isDuplicateKey(err)) throw err
      // Another writer owns this version: read on from its slot. Past a few
      // lost rounds, a short random pause spreads the contenders.
      if (attempt >= 3) await sleep(Math.random() * Math.min(25, 2 ** (attempt - 3)))
      doc = await advance(c, doc)
      continue
    }
    const next: UserDoc = { ...doc, ...state }
    // Hints for readers; the slot above is the commit. A failure here costs
    // readers one more probe, so it is not reported.
    await Promise.all([
      c.users.updateOne({ _id: id, version: { $lt: state.version } }, { $set: state }).catch(() => undefined),
      c.userVersions.updateOne({ _id: versionKey(id, doc.version) }, { $set: { stripped: true }, $unset: { name: '', passwordHash: '', claims: '' } }).catch(() => undefined),
    ])
    return finishChange(c, toUser(next))
  }
  throw storeConflict('the user changed too often to apply this change')
}

/** The user with every session id of that user (a session always reads the user's current state). */
async function finishChange(c: MongoCollections, user: UserRecord): Promise<ClaimChange> {
  const sessions = await c.sessions.find({ userId: user.id }, { projection: { _id: 1 } }).sort({ createdAt: 1, _id: 1 }).toArray()
  return { user, sessionIds: sessions.map((s) => s._id) }
}

const sameClaim = (a: Claim, b: Claim): boolean => a.type === b.type && a.value === b.value

/** Adds `claim` unless held. */
export function addClaimChange(claim: Claim): UserChange {
  return (state) => (state.claims.some((held) => sameClaim(held, claim)) ? null : { claims: [...state.claims, { type: claim.type, value: claim.value }] })
}

/** Removes the claims matching `{ type }` or `{ type, value }`. */
export function removeClaimChange(match: { type: string; value?: string }): UserChange {
  return (state) => {
    const next = state.claims.filter((held) => !(held.type === match.type && (match.value === undefined || held.value === match.value)))
    return next.length === state.claims.length ? null : { claims: next }
  }
}

/** Replaces the claims of `types` by `claims`; kept claims keep their place, new ones are appended. */
export function replaceClaimTypesChange(types: string[], claims: Claim[]): UserChange {
  const typeSet = new Set(types)
  return (state) => {
    const kept = state.claims.filter((held) => !typeSet.has(held.type) || claims.some((n) => sameClaim(n, held)))
    const added = claims.filter((n) => !state.claims.some((held) => sameClaim(held, n)))
    const next = [...kept, ...added]
    const same = next.length === state.claims.length && next.every((claim, i) => sameClaim(claim, state.claims[i]!))
    return same ? null : { claims: next }
  }
}

/**
 * Sets name / passwordHash / disabled; a change only when one differs. With
 * `revokeAccessTokens`, always a change, and `tokensMinVersion` becomes the
 * new version in the same slot.
 */
export function updateUserChange(fields: { name?: string | null; passwordHash?: string | null; disabled?: boolean }, revokeAccessTokens: boolean): UserChange {
  return (state) => {
    const differs = (Object.keys(fields) as (keyof typeof fields)[]).some((k) => fields[k] !== state[k])
    if (!differs && !revokeAccessTokens) return null
    return revokeAccessTokens ? { ...fields, tokensMinVersion: state.version + 1 } : { ...fields }
  }
}

/** Inserts a session of an existing user. Its name / claims / version are read from the user on every read. */
export async function createSessionDoc(c: MongoCollections, session: SessionRecord): Promise<void> {
  // readUser, not the user document: its copy of the state may lag behind the newest version.
  const owner = await readUser(c, session.userId)
  if (owner === null) throw userNotFound()
  if (owner.disabled) throw new UserDisabled()
  await c.sessions.insertOne({
    _id: session.id,
    userId: session.userId,
    name: session.name ?? null,
    claims: checkClaims(session.claims ?? []),
    userVersion: session.userVersion,
    createdAt: session.createdAt,
    lastSeenAt: session.lastSeenAt,
    idleExpiresAt: session.idleExpiresAt,
    absoluteExpiresAt: session.absoluteExpiresAt,
    ip: session.ip ?? null,
    userAgent: session.userAgent ?? null,
    // A JSON string: provider claim names may hold "." or "$" (URL-named claims), which documents refuse.
    ...(session.provider === undefined || session.provider === null ? {} : { providerJson: JSON.stringify(session.provider) }),
  })
  // C4 without a transaction: "disable" writes the flag, then deletes the
  // sessions. An insert that came after that delete sees the flag here and
  // takes itself back; one that came before is deleted by it.
  const after = await readUser(c, session.userId)
  if (after === null || after.disabled) {
    await c.sessions.deleteOne({ _id: session.id })
    throw after === null ? userNotFound() : new UserDisabled()
  }
}

/** Deletes every session of the user; loops so a session created meanwhile is both deleted and reported. */
export async function deleteUserSessionsDoc(c: MongoCollections, userId: string): Promise<string[]> {
  const deleted: string[] = []
  for (let round = 0; round < 10; round++) {
    const ids = (await c.sessions.find({ userId }, { projection: { _id: 1 } }).toArray()).map((s) => s._id)
    if (ids.length === 0) return deleted
    await c.sessions.deleteMany({ _id: { $in: ids }, userId })
    deleted.push(...ids)
  }
  await c.sessions.deleteMany({ userId })
  return deleted
}
