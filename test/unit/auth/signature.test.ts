/**
 * The signed-request rules (src/auth/signature.ts): Twilio's form signature concatenates sorted names and values with
 * no separator, so one captured signature also matches every re-split of the same characters. A signed request may
 * therefore name only the parameters its endpoint lists; values are plain; SignedAt bounds replay.
 */
import { createHash } from 'node:crypto';
import fc from 'fast-check';
import twilio from 'twilio';
import { SIGNED_AT, SIGNED_AT_TOLERANCE_SECONDS, verifySignature } from '../../../src/auth/signature';
import { SIGNED_JOB_PARAMS } from '../../../src/functions/sync-recent-calls.protected';
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

const refusal = (request: Parameters<typeof verifySignature>[0], allowed: readonly string[] = SIGNED_TOKEN_PARAMS) => {
  try {
    verifySignature(request, TOKEN, { ...rules, allowed });
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

/** Twilio's form signature input: the sorted names, each followed by its value, with no separator. */
const concatenation = (params: Record<string, string>) =>
  Object.keys(params)
    .sort()
    .map((name) => name + params[name])
    .join('');

/**
 * Every way `text` reads as a form of `names` (each name once, in sorted order, as the signature has them) whose
 * values hold none of the names: the splits a captured signature would also verify and these rules would accept.
 */
function splits(text: string, names: readonly string[], from = 0, after = ''): number {
  if (from === text.length) return after === '' ? 0 : 1;
  let count = 0;
  for (const name of names) {
    if (name <= after || !text.startsWith(name, from)) continue;
    for (let end = from + name.length; end <= text.length; end++) {
      const value = text.slice(from + name.length, end);
      if (names.some((other) => value.includes(other))) break; // a longer value holds the name too
      count += splits(text, names, end, name);
    }
  }
  return count;
}

describe('re-split by folding a later parameter into a value', () => {
  const signedAt = String(Math.floor(NOW / 1000));

  it("each fold would verify under Twilio's scheme, and is refused here", () => {
    const folds: Array<[Record<string, string>, Record<string, string>]> = [
      // Dropping SignedAt would make the capture valid forever.
      [{ Identity: 'svc-reporting', SignedAt: signedAt }, { Identity: `svc-reportingSignedAt${signedAt}` }],
      // Dropping Ttl would turn a 30-minute token into a default one.
      [{ Identity: 'a', Ttl: '1800' }, { Identity: 'aTtl1800' }],
    ];
    for (const [captured, replayed] of folds) {
      expect(
        twilio.validateRequest(TOKEN, twilio.getExpectedTwilioSignature(TOKEN, URL, captured), URL, replayed),
      ).toBe(true);
      expect(refusal(form(captured, replayed))).toMatchObject({ status: 401, code: 'SIGNATURE_INVALID' });
    }
    // A value holding a name is refused even as signed, so a signer learns at once not to sign one (its one accepted
    // reading, `{Identity: 'bob', Ttl: '1800'}`, is not what it meant).
    expect(refusal(form({ Identity: 'bobTtl1800' }))).toMatchObject({
      code: 'SIGNATURE_INVALID',
      message: expect.stringMatching(/must not contain a parameter name \(Ttl\)/),
    });
  });

  it('a JSON body may hold the names in its values: its hash covers the whole body', () => {
    expect(refusal(json({ Identity: `svcSignedAt${signedAt}` }))).toBeUndefined();
  });

  it.each([
    ['/sync-token', SIGNED_TOKEN_PARAMS],
    ['/sync-recent-calls', SIGNED_JOB_PARAMS],
  ])('a form %s accepts splits one way only, whatever its values', (_endpoint, allowed) => {
    const names = [...allowed, SIGNED_AT];
    // Values built from the names' own pieces, where a second split would hide.
    const pieces = names.flatMap((name) => [name, name.slice(0, 2), name.slice(1), name.slice(-2)]);
    const value = fc
      .array(fc.oneof(fc.constantFrom(...pieces), fc.constantFrom('a', 'x', '1', '_', 'T', 't')), { maxLength: 4 })
      .map((parts) => parts.join(''));
    const params = fc
      .uniqueArray(fc.constantFrom(...names), { minLength: 1, maxLength: names.length })
      .chain((chosen) => fc.tuple(...chosen.map((name) => value.map((v) => [name, v] as const))))
      .map((entries) => Object.fromEntries(entries) as Record<string, string>);
    fc.assert(
      fc.property(params, (signed) => {
        const holdsName = Object.values(signed).some((v) => names.some((name) => v.includes(name)));
        const refused = refusal(form(signed), allowed);
        if (holdsName) {
          expect(refused).toMatchObject({ code: 'SIGNATURE_INVALID' });
          return;
        }
        if (!(SIGNED_AT in signed)) expect(refused).toBeUndefined(); // (a SignedAt here is no Unix time)
        expect(splits(concatenation(signed), names)).toBe(1);
      }),
      { numRuns: 2000 },
    );
  });

  it('the rules really are what refuses a fold (without them a second split exists)', () => {
    const text = concatenation({ Identity: 'a', SignedAt: signedAt });
    const loose = (from: number, after: string): number => {
      if (from === text.length) return 1;
      let count = 0;
      for (const name of [...SIGNED_TOKEN_PARAMS, SIGNED_AT]) {
        if (name <= after || !text.startsWith(name, from)) continue;
        for (let end = from + name.length; end <= text.length; end++) count += loose(end, name);
      }
      return count;
    };
    expect(loose(0, '')).toBeGreaterThan(1);
    expect(splits(text, [...SIGNED_TOKEN_PARAMS, SIGNED_AT])).toBe(1);
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
