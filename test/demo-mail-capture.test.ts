import nodemailer from 'nodemailer'
import { afterAll, beforeAll, expect, it } from 'vitest'
import { startMailCapture } from '../demo/lib/mail-capture.mjs'

// The demo's development mailbox (demo/lib/mail-capture.mjs): a real smtp-server on loopback that
// nodemailer delivers to. What /dev/mail shows comes from here; the page itself and its absence under
// NODE_ENV=production are tested end to end in test/e2e/account-lifecycle.test.ts.

let capture: Awaited<ReturnType<typeof startMailCapture>>
let transport: nodemailer.Transporter

beforeAll(async () => {
  capture = await startMailCapture()
  // One pooled connection: the bound test sends 105 messages.
  transport = nodemailer.createTransport(`${capture.url}?pool=true&maxConnections=1`)
})

afterAll(async () => {
  transport?.close()
  await capture?.close()
})

const TOKEN = 'A'.repeat(21) + '_' + 'b'.repeat(21)

it('listens on loopback and keeps each message, newest first, with its single-use links only', async () => {
  expect(capture.url).toMatch(/^smtp:\/\/127\.0\.0\.1:\d+$/)
  await transport.sendMail({ from: 'a@example.test', to: 'first@example.test', subject: 'one', text: 'no link here, only https://example.test/page' })
  await transport.sendMail({
    from: 'a@example.test',
    to: 'second@example.test',
    subject: 'two',
    text: `open http://localhost:3000/account/verify-email#token=${TOKEN} now, or twice: http://localhost:3000/account/verify-email#token=${TOKEN}`,
    html: '<a href="http://elsewhere.test/#token=x">not read</a>',
  })
  const [newest, older] = capture.messages()
  expect(newest).toMatchObject({ to: ['second@example.test'], subject: 'two', links: [`http://localhost:3000/account/verify-email#token=${TOKEN}`] })
  expect(older).toMatchObject({ to: ['first@example.test'], subject: 'one', links: [] })
  expect(newest!.id).toBeGreaterThan(older!.id)
})

it('keeps the last 100 messages, so a long session does not grow without bound', async () => {
  for (let i = 0; i < 105; i++) await transport.sendMail({ from: 'a@example.test', to: 'many@example.test', subject: `n${i}`, text: 'x' })
  const kept = capture.messages()
  expect(kept).toHaveLength(100)
  expect(kept[0]!.subject).toBe('n104')
  expect(kept.at(-1)!.subject).toBe('n5')
})
