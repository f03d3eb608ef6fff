import fc from 'fast-check';
import { describeError } from '../../../src/http/error-response';
import { InvalidParameter } from '../../../src/params/errors';
import { resolveLifetime } from '../../../src/tokens/lifetime';
import { messageOf } from '../../helpers/thrown';

function codeOf(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(InvalidParameter);
    expect((error as InvalidParameter).parameter).toBe('Ttl');
    expect(describeError(error).status).toBe(400);
    return describeError(error).code;
  }
  return undefined;
}

describe('resolveLifetime', () => {
  it('uses the configured lifetime when the client asks for none', () => {
    expect(resolveLifetime(undefined, 14_400)).toBe(14_400);
    expect(resolveLifetime(null, 3600)).toBe(3600);
  });

  it('grants exactly what is asked within [1800, configured], as a number or a form string', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1800, max: 86_400 }), fc.integer({ min: 0, max: 86_400 }), (configured, offset) => {
        const asked = 1800 + (offset % (configured - 1800 + 1));
        expect(resolveLifetime(asked, configured)).toBe(asked);
        expect(resolveLifetime(String(asked), configured)).toBe(asked);
      }),
    );
  });

  it('refuses a whole number outside the bounds with TTL_OUT_OF_RANGE, never clamping', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1800, max: 86_400 }),
        fc.oneof(fc.integer({ min: 0, max: 1799 }), fc.integer({ min: 86_401, max: 999_999_999 })),
        (configured, asked) => {
          expect(codeOf(() => resolveLifetime(asked, configured))).toBe('TTL_OUT_OF_RANGE');
          expect(codeOf(() => resolveLifetime(String(asked), configured))).toBe('TTL_OUT_OF_RANGE');
        },
      ),
    );
    expect(codeOf(() => resolveLifetime(14_401, 14_400))).toBe('TTL_OUT_OF_RANGE');
    expect(codeOf(() => resolveLifetime(-5, 14_400))).toBe('TTL_OUT_OF_RANGE');
  });

  it('refuses anything that is not a whole number with TTL_INVALID', () => {
    for (const value of [
      '',
      ' 3600',
      '3600 ',
      '3600.0',
      '1e4',
      '0x10',
      '-3600',
      '+3600',
      'abc',
      3600.5,
      NaN,
      Infinity,
      true,
      [3600],
      { ttl: 3600 },
      '9'.repeat(20),
    ]) {
      expect(codeOf(() => resolveLifetime(value, 14_400))).toBe('TTL_INVALID');
    }
    fc.assert(
      fc.property(
        fc.string().filter((s) => !/^[0-9]{1,9}$/.test(s)),
        (text) => expect(codeOf(() => resolveLifetime(text, 14_400))).toBe('TTL_INVALID'),
      ),
    );
  });
});

describe('what the refusal says', () => {
  it('tells a malformed Ttl from one out of range, naming the range and the value', () => {
    expect(messageOf(() => resolveLifetime('1h', 14_400))).toBe('Ttl must be a whole number of seconds');
    expect(messageOf(() => resolveLifetime(600, 14_400))).toBe('Ttl must be from 1800 to 14400 seconds, got 600');
    expect(messageOf(() => resolveLifetime('900', 7200, 900))).toBeUndefined();
    expect(messageOf(() => resolveLifetime('899', 7200, 900))).toBe('Ttl must be from 900 to 7200 seconds, got 899');
  });
});
