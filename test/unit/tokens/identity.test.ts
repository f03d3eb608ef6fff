import fc from 'fast-check';
import { describeError } from '../../../src/http/error-response';
import { InvalidParameter } from '../../../src/params/errors';
import { FlexIdentityRejected } from '../../../src/tokens/errors';
import {
  identityProblem,
  MAX_IDENTITY_LENGTH,
  validateFlexIdentity,
  validateIdentity,
} from '../../../src/tokens/identity';
import { messageOf } from '../../helpers/thrown';

const refused = (value: unknown) => {
  try {
    validateIdentity(value);
  } catch (error) {
    return (
      error instanceof InvalidParameter &&
      error.parameter === 'Identity' &&
      describeError(error).status === 400 &&
      describeError(error).code === 'IDENTITY_INVALID'
    );
  }
  return false;
};

describe('validateIdentity (signed requests)', () => {
  it('accepts printable ASCII identities up to 121 characters', () => {
    for (const id of [
      'svc',
      'alice_40example_2Ecom',
      'client:alice',
      'a b',
      'x'.repeat(MAX_IDENTITY_LENGTH),
      '~!@#$%^&*()',
    ]) {
      expect(validateIdentity(id)).toBe(id);
    }
    fc.assert(
      fc.property(fc.stringMatching(/^[\x21-\x7e]([\x20-\x7e]{0,119}[\x21-\x7e])?$/), (id) =>
        expect(validateIdentity(id)).toBe(id),
      ),
    );
  });

  it('refuses missing, empty, too long, non-string, padded and non-printable identities', () => {
    for (const value of [
      undefined,
      null,
      '',
      'x'.repeat(MAX_IDENTITY_LENGTH + 1),
      42,
      ['a'],
      ' a',
      'a ',
      'a\nb',
      'a\tb',
      'a\u0000',
      'ünï',
      'a\u2028b',
      '😀',
    ]) {
      expect(refused(value)).toBe(true);
    }
    // fc.string() is printable ASCII; glue a string with at least one character outside it to one.
    const outside = fc.string({ unit: 'binary', minLength: 1 }).filter((s) => /[^\x20-\x7e]/.test(s));
    const withOutside = fc.tuple(fc.string(), outside, fc.string()).map(([a, b, c]) => a + b + c);
    fc.assert(fc.property(withOutside, (id) => expect(refused(id)).toBe(true)));
  });
});

describe('validateFlexIdentity (the identity IAM returns)', () => {
  it('applies the same bounds, refusing with 403 FLEX_IDENTITY_INVALID (the caller cannot fix it by retrying)', () => {
    expect(validateFlexIdentity('alice_40example_2Ecom')).toBe('alice_40example_2Ecom');
    for (const value of [
      '',
      'x'.repeat(MAX_IDENTITY_LENGTH + 1),
      ' alice',
      'ali\u0000ce',
      'alice\r\nX: 1',
      '\u00e5lice',
    ]) {
      let thrown: unknown;
      try {
        validateFlexIdentity(value);
      } catch (error) {
        thrown = error;
      }
      expect(thrown).toBeInstanceOf(FlexIdentityRejected);
      expect(describeError(thrown)).toMatchObject({ status: 403, code: 'FLEX_IDENTITY_INVALID' });
    }
  });
});

describe('what the refusal says', () => {
  it("names the problem of a signed request's Identity", () => {
    expect(identityProblem('alice')).toBeUndefined();
    for (const missing of [undefined, null, '']) {
      expect(identityProblem(missing)).toBe('is required');
      expect(messageOf(() => validateIdentity(missing))).toBe('Identity is required in a signed request');
    }
    expect(messageOf(() => validateIdentity(42))).toBe('Identity must be a string');
    expect(messageOf(() => validateIdentity('x'.repeat(122)))).toBe('Identity must be at most 121 characters');
    expect(messageOf(() => validateIdentity('a\tb'))).toBe('Identity must be printable ASCII');
    expect(messageOf(() => validateIdentity(' a'))).toBe('Identity must not start or end with a space');
  });

  it('names the problem of the identity IAM returned', () => {
    expect(messageOf(() => validateFlexIdentity(''))).toBe(
      'The identity Twilio IAM gave for this Flex user is required, so it cannot go into a Sync token',
    );
    expect(messageOf(() => validateFlexIdentity('a '))).toBe(
      'The identity Twilio IAM gave for this Flex user must not start or end with a space, so it cannot go into a Sync token',
    );
  });
});
