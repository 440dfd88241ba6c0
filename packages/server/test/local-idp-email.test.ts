import { describe, expect, it } from 'vitest'
import { canonicalEmail, tryCanonicalEmail } from '../src/lib/local-idp/email.js'

describe('e-mail identifiers are canonicalised before validation (checklist 4)', () => {
  it.each([
    ['ada@example.com', 'ada@example.com'],
    ['  Ada@Example.COM  ', 'ada@example.com'],
    ['\tADA@EXAMPLE.COM\n', 'ada@example.com'],
    ['first.last+tag@sub.example.co.uk', 'first.last+tag@sub.example.co.uk'],
    ['o\'reilly@example.com', 'o\'reilly@example.com'],
    ['user@xn--bcher-kva.example', 'user@xn--bcher-kva.example'],
  ])('%j → %j', (input, expected) => {
    expect(canonicalEmail(input)).toBe(expected)
  })

  it('case and padding variants name the same account', () => {
    const variants = ['ada@example.com', 'ADA@example.com', ' Ada@EXAMPLE.com', 'aDa@ExAmPlE.CoM  ']
    expect(new Set(variants.map((v) => canonicalEmail(v))).size).toBe(1)
  })

  it.each([
    ['comma list', 'victim@example.com,attacker@evil.example'],
    ['semicolon list', 'victim@example.com;attacker@evil.example'],
    ['quoted local part', '"victim@example.com"@evil.example'],
    ['quoted local with space', '"a b"@example.com'],
    ['display name', 'Victim <victim@example.com>'],
    ['angle brackets', '<victim@example.com>'],
    ['whitespace inside', 'vic tim@example.com'],
    ['two @', 'a@b@example.com'],
    ['no @', 'example.com'],
    ['empty local', '@example.com'],
    ['no domain dot', 'root@localhost'],
    ['IP literal', 'user@[127.0.0.1]'],
    ['numeric TLD', 'user@1.2.3.4'],
    ['leading dot', '.ada@example.com'],
    ['double dot', 'a..b@example.com'],
    ['trailing dot in domain', 'ada@example.com.'],
    ['hyphen label edge', 'ada@-example.com'],
    ['non-ASCII local part', 'ädä@example.com'],
    ['non-ASCII domain', 'ada@exämple.com'],
    ['comment', 'ada(comment)@example.com'],
    ['backslash', 'a\\b@example.com'],
    ['newline header injection', 'ada@example.com\nbcc:x@evil.example'],
    ['empty', ''],
    ['only spaces', '   '],
    ['local part over 64', `${'a'.repeat(65)}@example.com`],
    ['over 254 characters', `${'a'.repeat(60)}@${'b'.repeat(60)}.${'c'.repeat(60)}.${'d'.repeat(60)}.${'e'.repeat(10)}.com`],
    ['huge input', `${'a'.repeat(100_000)}@example.com`],
  ])('refuses %s with ERR_INVALID_EMAIL', (_name, input) => {
    expect(() => canonicalEmail(input)).toThrowError(expect.objectContaining({ code: 'ERR_INVALID_EMAIL', statusCode: 400 }))
    expect(tryCanonicalEmail(input)).toBeNull()
  })

  it.each([[null], [undefined], [42], [{}], [['a@example.com']]])('refuses the non-string %j', (input) => {
    expect(() => canonicalEmail(input)).toThrowError(expect.objectContaining({ code: 'ERR_INVALID_EMAIL' }))
  })

  it('normalises Unicode to NFC before checking, so decomposed look-alikes are still refused', () => {
    // "é" as e + combining acute: NFC turns it into one non-ASCII code point, which the pattern refuses.
    expect(tryCanonicalEmail('re\u0301sume@example.com')).toBeNull()
  })
})
