import { publicUrl } from '../../../src/auth/public-url';
import { ConfigError } from '../../../src/config/errors';
import { redact } from '../../../src/observability/logger';

describe('publicUrl (what signers sign)', () => {
  it('is https on the deployed domain and http on a local twilio-run', () => {
    expect(publicUrl({ DOMAIN_NAME: 'flex-sync-1234-dev.twil.io', PATH: '/sync-token' })).toBe(
      'https://flex-sync-1234-dev.twil.io/sync-token',
    );
    expect(publicUrl({ DOMAIN_NAME: 'localhost:3000', PATH: '/sync-token' })).toBe('http://localhost:3000/sync-token');
  });

  it('follows PUBLIC_BASE_URL, and refuses one that is not an http(s) URL as a configuration error', () => {
    expect(publicUrl({ DOMAIN_NAME: 'x.twil.io', PATH: '/a', PUBLIC_BASE_URL: 'https://calls.example.com/' })).toBe(
      'https://calls.example.com/a',
    );
    for (const bad of ['example.com', 'ftp://example.com', 'https://exa mple.com', 'https://example.com?x=1']) {
      expect(() => publicUrl({ DOMAIN_NAME: 'x.twil.io', PATH: '/a', PUBLIC_BASE_URL: bad })).toThrow(ConfigError);
    }
  });
});

describe('log redaction', () => {
  it('never prints what it did not inspect: values nested too deep are truncated', () => {
    const deep = { a: { b: { c: { d: { e: { f: { g: { token: 'deep-secret-value' } } } } } } } };
    expect(JSON.stringify(redact(deep, ['deep-secret-value']))).not.toContain('deep-secret-value');
    expect(JSON.stringify(redact(deep, []))).toContain('[TRUNCATED]');
  });
});
