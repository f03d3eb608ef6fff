/** The spec extractor keeps exactly the served operations and what they reference, and the checked-in extract is current. */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Emulator } from '../../../emulator/server';
import { EXTRACTED_SPEC_DIR, SPEC_FAMILIES, extractSpec, pathSkeleton } from '../../../scripts/lib/openapi-extract';

const spec = {
  openapi: '3.0.1',
  components: {
    securitySchemes: { accountSid_authToken: { type: 'http', scheme: 'basic' } },
    schemas: {
      'v1.map': { type: 'object', properties: { links: { $ref: '#/components/schemas/v1.links' } } },
      'v1.links': { type: 'object', properties: { items: { type: 'string' } } },
      'v1.unused': { type: 'object' },
    },
  },
  paths: {
    '/v1/Services/{ServiceSid}/Maps/{Sid}': {
      servers: [{ url: 'https://sync.twilio.com' }],
      get: {
        responses: { '200': { content: { 'application/json': { schema: { $ref: '#/components/schemas/v1.map' } } } } },
      },
      delete: { responses: { '204': {} } },
    },
    '/v1/Services/{ServiceSid}/Documents': { get: { responses: {} } },
  },
};

describe('extractSpec', () => {
  it('keeps the served methods of served paths and the components they reach, transitively', () => {
    const out = extractSpec(spec, [{ method: 'GET', pattern: '/v1/Services/:ServiceSid/Maps/:Sid' }]) as typeof spec;
    expect(Object.keys(out.paths)).toEqual(['/v1/Services/{ServiceSid}/Maps/{Sid}']);
    expect(Object.keys(out.paths['/v1/Services/{ServiceSid}/Maps/{Sid}'])).toEqual(['servers', 'get']);
    expect(Object.keys(out.components.schemas)).toEqual(['v1.links', 'v1.map']);
    expect(out.components.securitySchemes).toEqual(spec.components.securitySchemes);
    expect(out.openapi).toBe('3.0.1');
  });

  it('drops a path none of whose methods is served', () => {
    const out = extractSpec(spec, [{ method: 'POST', pattern: '/v1/Services/:ServiceSid/Documents' }]) as typeof spec;
    expect(out.paths).toEqual({});
    expect(out.components.schemas).toBeUndefined();
  });

  it('matches emulator patterns and spec paths by shape', () => {
    expect(pathSkeleton('/2010-04-01/Accounts/:AccountSid/Calls.json')).toBe(
      pathSkeleton('/2010-04-01/Accounts/{AccountSid}/Calls.json'),
    );
  });

  it('the checked-in extract is what the script would write for the routes the emulator serves today', () => {
    // Extracting again from the extract must change nothing: otherwise it holds operations no route serves (stale).
    // Routes the extract lacks are caught by the contract test ("documents every … route").
    const routes = new Emulator().router.routes;
    for (const { file, family } of SPEC_FAMILIES) {
      const text = readFileSync(join(__dirname, '..', '..', '..', EXTRACTED_SPEC_DIR, file), 'utf8');
      const again = `${JSON.stringify(
        extractSpec(
          JSON.parse(text),
          routes.filter((r) => r.family === family),
        ),
        null,
        1,
      )}\n`;
      expect(again === text).toBe(true);
    }
  });
});
