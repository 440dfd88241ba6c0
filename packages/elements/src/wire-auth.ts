/**
 * The served bundle (`<script type="module" src="https://auth.example.com/wire-auth.js">`):
 * defines the elements on load and exposes the same named exports as the package.
 */
import { defineWireAuthElements } from './lib/define.js'
import { WireAuth } from './lib/hub.js'

defineWireAuthElements()

// The UI elements (<wire-auth-sign-in>, <wire-auth-user-button>, <wire-auth-account>,
// <wire-auth-signed-out>) live in a second module, fetched from beside this file only
// when the page holds one of them (now or later): pages without them never pay for it.
const UI_TAGS = 'wire-auth-sign-in,wire-auth-user-button,wire-auth-account,wire-auth-signed-out'
let ui: Promise<void> | undefined
/**
 * The UI module beside this file: `wire-auth-ui@<version>.js` when this bundle
 * was loaded from its versioned URL (`wire-auth@<version>.js`, the one a page
 * pins with Subresource Integrity), so that the page can pin the UI module
 * too (an import map's `integrity`) and both stay the same version.
 */
const uiModuleFile = (url: string): string => {
  const version = /\/wire-auth@([0-9A-Za-z.+-]+)\.js$/.exec(new URL(url).pathname)?.[1]
  return version === undefined ? 'wire-auth-ui.js' : `wire-auth-ui@${version}.js`
}
const loadUi = (): boolean => {
  if (ui === undefined && document.querySelector(UI_TAGS) !== null) {
    ui = import(new URL(uiModuleFile(import.meta.url), import.meta.url).href).then(
      (module: { start(wireAuth: typeof WireAuth): void }) => module.start(WireAuth),
      (err: unknown) => console.error('wire-auth: the UI module (wire-auth-ui.js) did not load', err),
    )
  }
  return ui !== undefined
}
if (!loadUi()) {
  const observer = new MutationObserver(() => loadUi() && observer.disconnect())
  observer.observe(document, { childList: true, subtree: true })
}

export {
  WireAuth,
  WireAuthGuard,
  WireAuthRegion,
  WireAuthUser,
  WireAuthConnection,
  WireAuthHub,
  defineWireAuthElements,
  principalContext,
  hubContext,
  sanitizeFragment,
} from './index.js'
