/**
 * The served bundle (`<script type="module" src="https://auth.example.com/wire-auth.js">`):
 * defines the elements on load and exposes the same named exports as the package.
 */
import { defineWireAuthElements } from './lib/define.js'
import { WireAuth } from './lib/hub.js'
import { chunkUrl } from './lib/lazy.js'

defineWireAuthElements()

// The UI elements (<wire-auth-sign-in>, <wire-auth-user-button>, <wire-auth-account>,
// <wire-auth-signed-out>) live in a second module, fetched from beside this file only
// when the page holds one of them (now or later): pages without them never pay for it.
// Beside a versioned bundle (wire-auth@<version>.js) it is wire-auth-ui@<version>.js, so a
// page that pins the bundle can pin it too (chunkUrl).
const UI_TAGS = 'wire-auth-sign-in,wire-auth-user-button,wire-auth-account,wire-auth-signed-out'
let ui: Promise<void> | undefined
const loadUi = (): boolean => {
  if (ui === undefined && document.querySelector(UI_TAGS) !== null) {
    ui = import(chunkUrl('ui', import.meta.url)).then(
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
