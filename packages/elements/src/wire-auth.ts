/**
 * The served bundle (`<script type="module" src="https://auth.example.com/wire-auth.js">`):
 * defines the elements on load and exposes the same named exports as the package.
 */
import { defineWireAuthElements } from './lib/define.js'

defineWireAuthElements()

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
