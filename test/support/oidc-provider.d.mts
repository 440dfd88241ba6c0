export * from '../../demo/lib/oidc-provider.mjs'
