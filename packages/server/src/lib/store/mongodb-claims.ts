import type { Document } from 'mongodb'
import type { Claim } from '@wire-auth/core'
import type { ClaimChange, SessionRecord } from './auth-store.js'
import { toUser, type MongoCollections, type UserDoc } from './mongodb-documents.js'
import { checkClaims, userNotFound } from './store-errors.js'

/**
 * Claim changes, user updates and session snapshots of `MongoAuthStore`.
 * Each change is one atomic single-document update of the user that bumps
 * `version` only when something changed, followed by the snapshot rewrite.
 * Arguments are checked by the caller.
 * @internal
 */

/** Adds `claim` unless held: the filter only matches while it is absent. */
export async function addClaimDoc(c: MongoCollections, id: string, claim: Claim): Promise<ClaimChange> {
  const { type, value } = claim
  const doc =
    (await c.users.findOneAndUpdate(
      { _id: id, claims: { $not: { $elemMatch: { type, value } } } },
      { $push: { claims: { type, value } }, $inc: { version: 1 }, $set: { updatedAt: Date.now() } },
      { returnDocument: 'after' },
    )) ?? (await c.users.findOne({ _id: id }))
  if (doc === null) throw userNotFound()
  return finishChange(c, doc)
}

/** Removes the claims matching `{ type }` or `{ type, value }`; the filter only matches while one is held. */
export async function removeClaimDoc(c: MongoCollections, id: string, match: { type: string; value?: string }): Promise<ClaimChange> {
  const doc =
    (await c.users.findOneAndUpdate(
      { _id: id, claims: { $elemMatch: match } },
      { $pull: { claims: match }, $inc: { version: 1 }, $set: { updatedAt: Date.now() } },
      { returnDocument: 'after' },
    )) ?? (await c.users.findOne({ _id: id }))
  if (doc === null) throw userNotFound()
  return finishChange(c, doc)
}

/** Replaces the claims of `types` by `claims`; kept claims keep their place, new ones are appended. */
export function replaceClaimTypesDoc(c: MongoCollections, id: string, types: string[], claims: Claim[]): Promise<ClaimChange> {
  // $literal keeps values such as "$claims" from being read as field paths.
  const T = { $literal: types }
  const N = { $literal: claims }
  const next = {
    $concatArrays: [
      {
        $filter: {
          input: '$claims',
          as: 'c',
          cond: { $or: [{ $not: [{ $in: ['$$c.type', T] }] }, { $in: [{ type: '$$c.type', value: '$$c.value' }, N] }] },
        },
      },
      { $filter: { input: N, as: 'n', cond: { $not: [{ $in: ['$$n', '$claims'] }] } } },
    ],
  }
  return changeUser(c, id, { $ne: ['$$next', '$claims'] }, { claims: '$$next' }, next)
}

/**
 * Sets name / passwordHash / disabled; bumps the version only when one
 * differs. With `revokeAccessTokens`, always bumps and sets
 * `tokensMinVersion` to the new version in the same update.
 */
export async function updateUserDoc(c: MongoCollections, id: string, fields: Record<string, unknown>, revokeAccessTokens = false): Promise<ClaimChange> {
  const changed = { $or: [revokeAccessTokens, ...Object.entries(fields).map(([k, v]) => ({ $ne: [`$${k}`, { $literal: v }] }))] }
  const set: Document = Object.fromEntries(Object.entries(fields).map(([k, v]) => [k, { $literal: v }]))
  // Inside one $set stage `$version` is the value before the update.
  if (revokeAccessTokens) set.tokensMinVersion = { $add: ['$version', 1] }
  return changeUser(c, id, changed, set)
}

/**
 * One pipeline update: sets `set`, and bumps `version` / `updatedAt` only
 * when `changed` (evaluated against the document before the update) holds.
 * With `next`, `$$next` names that expression inside `changed` and `set`.
 */
async function changeUser(c: MongoCollections, id: string, changed: Document, set: Document, next?: Document): Promise<ClaimChange> {
  const now = Date.now()
  const bind = (body: unknown): unknown => (next === undefined ? body : { $let: { vars: { next }, in: body } })
  const pipeline: Document[] = [
    { $set: { __changed: bind(changed) } },
    {
      $set: {
        ...Object.fromEntries(Object.entries(set).map(([k, v]) => [k, bind(v)])),
        version: { $cond: ['$__changed', { $add: ['$version', 1] }, '$version'] },
        updatedAt: { $cond: ['$__changed', now, '$updatedAt'] },
      },
    },
    { $unset: '__changed' },
  ]
  const doc = await c.users.findOneAndUpdate({ _id: id }, pipeline, { returnDocument: 'after' })
  if (doc === null) throw userNotFound()
  return finishChange(c, doc)
}

/**
 * Rewrites every older session snapshot of the user and reports the sessions
 * now at this version or newer. Runs after every change, even a no-op, so a
 * snapshot left behind by a crash between the two writes is repaired by the
 * next change of that user.
 */
async function finishChange(c: MongoCollections, doc: UserDoc): Promise<ClaimChange> {
  const user = toUser(doc)
  await c.sessions.updateMany(
    { userId: user.id, userVersion: { $lt: user.version } },
    { $set: { name: user.name, claims: user.claims, userVersion: user.version } },
  )
  const current = await c.sessions
    .find({ userId: user.id, userVersion: { $gte: user.version } }, { projection: { _id: 1 } })
    .sort({ createdAt: 1, _id: 1 })
    .toArray()
  return { user, sessionIds: current.map((s) => s._id) }
}

/** Inserts a session, then brings its snapshot up to date if the user changed meanwhile. */
export async function createSessionDoc(c: MongoCollections, session: SessionRecord): Promise<void> {
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
  })
  // Read the user after the insert: a claim change that finished before the
  // insert is seen here, one that finishes after it rewrites the row itself.
  const user = await c.users.findOne({ _id: session.userId })
  if (user === null) {
    await c.sessions.deleteOne({ _id: session.id })
    throw userNotFound()
  }
  if (user.version > session.userVersion) {
    await c.sessions.updateOne(
      { _id: session.id, userVersion: { $lt: user.version } },
      { $set: { name: user.name, claims: toUser(user).claims, userVersion: user.version } },
    )
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
