export interface StoredCookie {
  name: string
  value: string
  host: string
  path: string
  expiresAt: number
  httpOnly: boolean
  sameSite: string | undefined
}

/** A cookie jar shared across ports of one host, as browsers do. */
export declare class CookieJar {
  store(url: string | URL, response: Response): void
  header(url: string | URL): string | undefined
  all(): StoredCookie[]
  get(name: string): string | undefined
  set(name: string, value: string, scope?: { host?: string; path?: string }): void
  delete(name: string): void
  clone(): CookieJar
}

export interface NavigateResult {
  /** The final response; null when stopped by `stopAt`. */
  response: Response | null
  /** URL of the final response (or of the stop). */
  url: string
  /** The URL `stopAt` matched, unfetched; null otherwise. */
  next: string | null
}

/** fetch with a cookie jar and manual redirects. */
export declare class TestBrowser {
  constructor(jar?: CookieJar)
  jar: CookieJar
  request(url: string | URL, init?: RequestInit): Promise<Response>
  navigate(url: string | URL, options?: { stopAt?: (url: URL) => boolean; maxRedirects?: number; init?: RequestInit }): Promise<NavigateResult>
}

export interface DriveLoginOptions {
  /** Login typed into the dev form (the account id). Default `alice`. */
  login?: string
  password?: string
  /** Which URL is the relying party's callback. Default: path ends with `/callback`. */
  isCallback?: (url: URL) => boolean
  maxSteps?: number
}

/**
 * From `startUrl` through the provider's login and consent forms; stops
 * before fetching the callback and returns its URL. `forms` lists the
 * prompts answered (`['login', 'consent']`, or `[]` for a returning user).
 */
export declare function driveProviderLogin(browser: TestBrowser, startUrl: string | URL, options?: DriveLoginOptions): Promise<{ callbackUrl: string; forms: string[] }>
