import { createHash } from 'node:crypto'
import { readFile, stat } from 'node:fs/promises'
import { raw, type GuardSpec, type WireAuthLogger } from '@wire-auth/core'
import type { FragmentOptions } from '../fragments/fragment-definition.js'
import type { FragmentRegistry } from '../fragments/fragment-registry.js'
import { processPage, type InPlaceFragment, type PageGuard } from './page-processor.js'

/** What the page set logs to: part of core's one logger subset. */
export type PageLogger = Pick<WireAuthLogger, 'warn'>

/** One processed version of a page file, as served. @internal */
export interface LoadedPage {
  readonly file: string
  /** UTF-8 of the processed page. */
  readonly body: Buffer
  /** Strong ETag of `body`. */
  readonly etag: string
  /** Page-level `<wire-auth-guard>` elements, decided before anything is sent. */
  readonly guards: readonly PageGuard[]
  readonly fragmentNames: readonly string[]
  readonly mtimeMs: number
  readonly size: number
}

interface Entry {
  readonly file: string
  readonly key: string
  current: LoadedPage | null
  loading: Promise<LoadedPage> | null
  /** Dev mode: the stat check in flight, shared by concurrent requests. */
  checking: Promise<LoadedPage> | null
}

/** What a {@link PageSet} needs. @internal */
export interface PageSetDeps {
  registry: FragmentRegistry
  log: PageLogger
  /** Re-read a page whose file changed (mtime or size) before serving it. */
  watch: boolean
}

function fragmentOptions(fragment: InPlaceFragment): FragmentOptions {
  const { spec, redirect } = fragment.guard
  const guard: FragmentOptions =
    spec.kind === 'policy' ? { policy: spec.policy } : spec.kind === 'claims' ? { claims: spec.claims } : { authenticated: true }
  if (redirect !== undefined) guard.redirect = redirect
  const denied = fragment.denied
  if (denied !== undefined) guard.else = () => raw(denied)
  return guard
}

/**
 * The HTML pages the backend serves: each file is read and processed once
 * ({@link processPage}), its in-place regions defined as fragments, and the
 * result kept in memory. With `watch`, a request first compares the file's
 * mtime and size and re-processes a changed file (its old in-place fragments
 * are forgotten).
 * @internal
 */
export class PageSet {
  readonly #deps: PageSetDeps
  readonly #entries = new Map<string, Entry>()
  /** In-place fragment name → number of loaded page versions that use it. */
  readonly #uses = new Map<string, number>()

  constructor(deps: PageSetDeps) {
    this.#deps = deps
  }

  /** Adds a file (once; several URLs may serve one file). `key` names it in logs. */
  add(file: string, key: string): void {
    if (!this.#entries.has(file)) this.#entries.set(file, { file, key, current: null, loading: null, checking: null })
  }

  /** Processes every page not yet loaded (at boot, so that a broken file fails the start). */
  async loadAll(): Promise<void> {
    await Promise.all([...this.#entries.values()].map((entry) => this.#load(entry)))
  }

  /**
   * The page to serve for `file`. @throws a Node fs error (`ENOENT`…) when
   * the file cannot be read.
   */
  get(file: string): LoadedPage | Promise<LoadedPage> {
    const entry = this.#entries.get(file)
    if (entry === undefined) throw Object.assign(new Error(`page ${file} is not registered`), { code: 'ENOENT' })
    const current = entry.current
    if (current === null) return this.#load(entry)
    if (!this.#deps.watch) return current
    return (entry.checking ??= this.#check(entry, current).finally(() => {
      entry.checking = null
    }))
  }

  async #check(entry: Entry, current: LoadedPage): Promise<LoadedPage> {
    const info = await stat(entry.file)
    if (info.mtimeMs === current.mtimeMs && info.size === current.size) return current
    return this.#load(entry)
  }

  #load(entry: Entry): Promise<LoadedPage> {
    return (entry.loading ??= this.#read(entry).finally(() => {
      entry.loading = null
    }))
  }

  async #read(entry: Entry): Promise<LoadedPage> {
    const info = await stat(entry.file)
    const text = await readFile(entry.file, 'utf8')
    const processed = await processPage(text)
    for (const problem of processed.problems) {
      this.#deps.log.warn({ code: 'ERR_PAGE_INVALID', page: entry.key, problem: problem.message }, 'page markup fails closed')
    }
    const { registry } = this.#deps
    for (const fragment of processed.fragments) {
      const requires: GuardSpec[] = fragment.guard.claims === undefined ? [] : [fragment.guard.claims]
      const content = fragment.allowed
      registry.definePageFragment(fragment.name, fragmentOptions(fragment), () => raw(content), fragment.guard.params, requires)
    }
    // Names come from content, so two pages (or two versions) may share one: counted, removed at zero.
    const names = [...new Set(processed.fragments.map((fragment) => fragment.name))]
    for (const name of names) this.#uses.set(name, (this.#uses.get(name) ?? 0) + 1)
    for (const name of entry.current?.fragmentNames ?? []) {
      const left = (this.#uses.get(name) ?? 1) - 1
      if (left > 0) this.#uses.set(name, left)
      else {
        this.#uses.delete(name)
        registry.remove(name)
      }
    }
    const body = Buffer.from(processed.html, 'utf8')
    const page: LoadedPage = Object.freeze({
      file: entry.file,
      body,
      etag: `"${createHash('sha256').update(body).digest('base64url').slice(0, 27)}"`,
      guards: processed.guards,
      fragmentNames: Object.freeze(names),
      mtimeMs: info.mtimeMs,
      size: info.size,
    })
    entry.current = page
    return page
  }
}
