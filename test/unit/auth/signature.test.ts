/**
 * The signed-request rules (src/auth/signature.ts): Twilio's form signature concatenates sorted names and values with
 * no separator, so one captured signature also matches every re-split of the same characters. A signed request may
 * therefore name only the parameters its endpoint lists; values are plain; SignedAt bounds replay.
 */
import { createHash } from 'node:crypto';
import twilio from 'twilio';
import { SIGNED_AT_TOLERANCE_SECONDS, verifySignature } from '../../../src/auth/signature';
import { SIGNED_TOKEN_PARAMS } from '../../../src/tokens/caller';
import { describeError } from '../../../src/http/error-response';

const TOKEN = 'f'.repeat(32);
const context = { DOMAIN_NAME: 'example-1234.twil.io', PATH: '/sync-token' };
const URL = 'https://example-1234.twil.io/sync-token';
const NOW = Date.parse('2026-03-10T12:00:00.000Z');
const rules = { allowed: SIGNED_TOKEN_PARAMS, now: () => NOW };

/** A form request as the function sees it: `sent` parameters, signed over `signed` ones. */
function form(signed: Record<string, string>, sent: Record<string, unknown> = signed) {
  const signature = twilio.getExpectedTwilioSignature(TOKEN, URL, signed);
  return {
    context,
    params: sent,
    headers: { 'content-type': 'application/x-www-form-urlencoded', 'x-twilio-signature': signature },
  };
}

function json(body: Record<string, unknown>) {
  const text = JSON.stringify(body);
  const hash = createHash('sha256').update(text).digest('hex');
  const signature = twilio.getExpectedTwilioSignature(TOKEN, `${URL}?bodySHA256=${hash}`, {});
  return {
    context,
    params: { ...body, bodySHA256: hash },
    headers: { 'content-type': 'application/json', 'x-twilio-signature': signature },
  };
}

const refusal = (request: Parameters<typeof verifySignature>[0]) => {
  try {
    verifySignature(request, TOKEN, rules);
  } catch (error) {
    const { status, code, message } = describeError(error);
    return { status, code, message };
  }
  return undefined;
};

describe('re-split captures', () => {
  it('the captured requests themselves verify', () => {
    expect(refusal(form({ Identity: 'alice_40example_2Ecom_reporting' }))).toBeUndefined();
    expect(refusal(form({ Identity: 'x', Ttl: '1800' }))).toBeUndefined();
    expect(refusal(form({ Identity: 'bobToken' }))).toBeUndefined();
  });

  it("each re-split would verify under Twilio's scheme, and is refused here before the signature is judged", () => {
    const resplits: Array<[Record<string, string>, Record<string, string>]> = [
      [{ Identity: 'alice_40example_2Ecom_reporting' }, { Identity: 'alice_40example_2Ecom', _reporting: '' }],
      [
        { Identity: 'x', Ttl: '1800' },
        { Identity: 'x', Ttl1800: '' },
      ],
      [{ Identity: 'bobToken' }, { Identity: 'bob', Token: '' }],
    ];
    for (const [captured, replayed] of resplits) {
      // The premise: the SDK's own validator accepts the re-split with the captured signature.
      expect(
        twilio.validateRequest(TOKEN, twilio.getExpectedTwilioSignature(TOKEN, URL, captured), URL, replayed),
      ).toBe(true);
      expect(refusal(form(captured, replayed))).toMatchObject({
        status: 401,
        code: 'SIGNATURE_INVALID',
        message: expect.stringMatching(/may only carry/),
      });
    }
  });

  it("refuses any name outside the endpoint's list, in a form or JSON, even with a valid signature", () => {
    for (const extra of ['Token', 'identity', 'Extra', 'bodySHA256', '__proto__x']) {
      expect(refusal(form({ Identity: 'svc', [extra]: '1' }))).toMatchObject({ code: 'SIGNATURE_INVALID' });
    }
    expect(refusal(json({ Identity: 'svc', Extra: '1' }))).toMatchObject({ code: 'SIGNATURE_INVALID' });
    expect(refusal(json({ Identity: 'svc', Ttl: 3600 }))).toBeUndefined();
  });

  it('refuses nested or non-string values without walking them (a 5,000-deep body costs nothing)', () => {
    let deep: unknown = 'x';
    for (let i = 0; i < 5000; i++) deep = [deep];
    expect(
      refusal({ ...json({ Identity: 'svc' }), params: { Identity: deep, bodySHA256: 'a'.repeat(64) } }),
    ).toMatchObject({ code: 'SIGNATURE_INVALID' });
    expect(refusal(form({ Identity: 'svc' }, { Identity: ['svc', 'svc'] }))).toMatchObject({
      code: 'SIGNATURE_INVALID',
    });
    expect(refusal(form({ Identity: 'svc' }, { Identity: { toString: 1 } }))).toMatchObject({
      code: 'SIGNATURE_INVALID',
    });
    expect(refusal(form({ Identity: 'svc', Ttl: '3600' }, { Identity: 'svc', Ttl: 3600 }))).toMatchObject({
      code: 'SIGNATURE_INVALID',
    });
  });
});

describe('SignedAt', () => {
  const at = (ms: number) => String(Math.floor(ms / 1000));

  it("is optional; when present it must be within the tolerance of Twilio's clock", () => {
    expect(refusal(form({ Identity: 'svc' }))).toBeUndefined();
    expect(refusal(form({ Identity: 'svc', SignedAt: at(NOW) }))).toBeUndefined();
    expect(
      refusal(form({ Identity: 'svc', SignedAt: at(NOW - (SIGNED_AT_TOLERANCE_SECONDS - 5) * 1000) })),
    ).toBeUndefined();
    expect(
      refusal(form({ Identity: 'svc', SignedAt: at(NOW + (SIGNED_AT_TOLERANCE_SECONDS - 5) * 1000) })),
    ).toBeUndefined();
    for (const stale of [
      NOW - (SIGNED_AT_TOLERANCE_SECONDS + 5) * 1000,
      NOW + (SIGNED_AT_TOLERANCE_SECONDS + 5) * 1000,
      0,
    ]) {
      expect(refusal(form({ Identity: 'svc', SignedAt: at(stale) }))).toMatchObject({
        code: 'SIGNATURE_INVALID',
        message: expect.stringMatching(/SignedAt/),
      });
    }
    expect(refusal(json({ Identity: 'svc', SignedAt: Math.floor(NOW / 1000) }))).toBeUndefined();
  });

  it('must be whole Unix seconds', () => {
    for (const value of ['soon', '1.5', '-1', '', '2026-03-10T12:00:00Z']) {
      expect(refusal(form({ Identity: 'svc', SignedAt: value }))).toMatchObject({ code: 'SIGNATURE_INVALID' });
    }
  });

  it('is covered by the signature: changing it breaks the signature', () => {
    const signed = form({ Identity: 'svc', SignedAt: at(NOW - 3600_000) });
    expect(refusal({ ...signed, params: { Identity: 'svc', SignedAt: at(NOW) } })).toMatchObject({
      message: expect.stringMatching(/does not match/),
    });
  });
});
