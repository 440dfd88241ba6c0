// The tests' OpenID provider is the demo's (demo/lib/oidc-provider.mjs): the
// demo depends only on public packages and its own files, tests may use it.
export { listenOnFreePort, startOidcProvider } from '../../demo/lib/oidc-provider.mjs'
