// The error classes of core: code, status, name, cause and JSON body are the
// contract (issue 21: errors.ts scored 41 %).
import { describe, expect, it } from 'vitest'
import {
  ConfigSyntaxError,
  ERROR_TABLE,
  errorBody,
  GuardSpecInvalid,
  HtmlTemplateInvalid,
  InvalidOption,
  isWireAuthError,
  OptionalDependencyMissing,
  PolicyDuplicate,
  PolicyInvalid,
  PolicyNotFound,
  WireAuthError,
} from '@wire-auth/core'

describe('WireAuthError', () => {
  it('carries its code, a 500 status by default, its class name and the message', () => {
    const err = new WireAuthError('ERR_INTERNAL', 'boom')
    expect(err).toBeInstanceOf(Error)
    expect(err.code).toBe('ERR_INTERNAL')
    expect(err.statusCode).toBe(500)
    expect(err.name).toBe('WireAuthError')
    expect(err.message).toBe('boom')
    expect(new WireAuthError('ERR_DENIED', 'no', { statusCode: 403 }).statusCode).toBe(403)
  })

  it('keeps a cause, and has no cause property without one', () => {
    const cause = new TypeError('inner')
    expect(new WireAuthError('ERR_INTERNAL', 'x', { cause }).cause).toBe(cause)
    expect(Object.hasOwn(new WireAuthError('ERR_INTERNAL', 'x'), 'cause')).toBe(false)
    expect(Object.hasOwn(new WireAuthError('ERR_INTERNAL', 'x', { cause: undefined }), 'cause')).toBe(false)
    expect(new WireAuthError('ERR_INTERNAL', 'x', { cause: null }).cause).toBeNull()
  })

  it('serialises to the HTTP error body', () => {
    expect(JSON.parse(JSON.stringify(new WireAuthError('ERR_VALIDATION', 'bad', { statusCode: 400 })))).toEqual({ error: { code: 'ERR_VALIDATION', message: 'bad' } })
  })
})

describe('errorBody', () => {
  it('is the one error body, and the error table gives the message it answers without one', () => {
    expect(errorBody('ERR_NOT_READY', ERROR_TABLE.ERR_NOT_READY.message)).toEqual({ error: { code: 'ERR_NOT_READY', message: 'the server is starting; retry in a moment' } })
    expect(new WireAuthError('ERR_VALIDATION', 'bad').toJSON()).toEqual(errorBody('ERR_VALIDATION', 'bad'))
  })

  it('the core classes carry their code\'s status from the table', () => {
    for (const err of [new PolicyNotFound('x'), new GuardSpecInvalid('x'), new InvalidOption('x'), new HtmlTemplateInvalid('x')]) {
      expect(err.statusCode, err.code).toBe(ERROR_TABLE[err.code].status)
    }
  })
})

describe('isWireAuthError', () => {
  it('is true for wire-auth errors, with or without a matching code', () => {
    const err = new PolicyInvalid('x')
    expect(isWireAuthError(err)).toBe(true)
    expect(isWireAuthError(err, 'ERR_POLICY_INVALID')).toBe(true)
    expect(isWireAuthError(err, 'ERR_DENIED')).toBe(false)
    expect(isWireAuthError(new Error('x'))).toBe(false)
    expect(isWireAuthError({ code: 'ERR_POLICY_INVALID' }, 'ERR_POLICY_INVALID')).toBe(false)
    expect(isWireAuthError(null)).toBe(false)
  })
})

describe('the error classes', () => {
  it.each([
    [InvalidOption, 'ERR_INVALID_OPTION', 500],
    [PolicyDuplicate, 'ERR_POLICY_DUPLICATE', 500],
    [PolicyInvalid, 'ERR_POLICY_INVALID', 500],
    [PolicyNotFound, 'ERR_POLICY_NOT_FOUND', 403],
    [GuardSpecInvalid, 'ERR_GUARD_SPEC_INVALID', 400],
    [HtmlTemplateInvalid, 'ERR_HTML_TEMPLATE_INVALID', 500],
    [ConfigSyntaxError, 'ERR_CONFIG_SYNTAX', 500],
  ] as const)('%o has its code and status, its name, and takes a cause and a status', (Class, code, status) => {
    const err = new Class('msg')
    expect(err).toBeInstanceOf(WireAuthError)
    expect([err.code, err.statusCode, err.name, err.message]).toEqual([code, status, Class.name, 'msg'])
    const cause = new Error('inner')
    const withOptions = new Class('msg', { cause, statusCode: 418 })
    expect([withOptions.cause, withOptions.statusCode, withOptions.code]).toEqual([cause, 418, code])
  })

  it('OptionalDependencyMissing names the package to install', () => {
    const err = new OptionalDependencyMissing('mongodb', 'install mongodb')
    expect([err.code, err.statusCode, err.packageName, err.name]).toEqual(['ERR_OPTIONAL_DEPENDENCY_MISSING', 500, 'mongodb', 'OptionalDependencyMissing'])
  })
})
