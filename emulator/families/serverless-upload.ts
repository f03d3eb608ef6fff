/**
 * serverless-upload.twilio.com: where Function and Asset Versions are created, as multipart/form-data with the
 * fields Path, Visibility and Content (the file), exactly as @twilio-labs/serverless-api createFunctionVersion /
 * createAssetVersion send them. The answer is the version resource (serverless.twilio.com URLs); its content is
 * kept for the build.
 */
import { badRequest, TwilioError } from '../core/errors';
import type { EmuRequest, Router } from '../core/router';
import { newSid } from '../core/sids';
import type { Emulator } from '../server';
import type { ServerlessVersion, Visibility } from '../serverless/state';
import { renderServerless, serverlessLookups } from './serverless';

/** Largest upload accepted (unconfirmed: the documented limits are per file type; this is generous). */
export const MAX_UPLOAD_BYTES = 20 * 1024 * 1024;
const VISIBILITIES: readonly Visibility[] = ['public', 'protected', 'private'];

async function multipart(req: EmuRequest): Promise<FormData> {
  const type = String(req.headers['content-type'] ?? '');
  if (!type.toLowerCase().startsWith('multipart/form-data')) {
    throw new TwilioError(415, 20001, 'Versions are uploaded as multipart/form-data');
  }
  try {
    // Node's fetch implementation (undici) parses multipart bodies: no hand-written parser.
    return await new Response(new Uint8Array(req.bytes ?? Buffer.alloc(0)), {
      headers: { 'content-type': type },
    }).formData();
  } catch {
    throw badRequest('The multipart body could not be parsed');
  }
}

export function registerServerlessUpload(router: Router, emu: Emulator): void {
  const view = renderServerless(emu);
  const { service, resource } = serverlessLookups(emu);
  for (const [kind, plural, parent] of [
    ['function', 'Functions', 'FunctionSid'],
    ['asset', 'Assets', 'AssetSid'],
  ] as const) {
    router.add('serverless-upload', 'POST', `/v1/Services/:ServiceSid/${plural}/:${parent}/Versions`, async (req) => {
      const r = resource(service(req.params.ServiceSid), kind, req.params[parent]);
      const form = await multipart(req);
      const rawPath = form.get('Path');
      const visibility = form.get('Visibility');
      const content = form.get('Content');
      if (typeof rawPath !== 'string' || rawPath === '')
        throw new TwilioError(400, 21201, 'Missing required parameter Path');
      if (typeof visibility !== 'string' || !VISIBILITIES.includes(visibility as Visibility)) {
        throw badRequest(`Visibility must be one of ${VISIBILITIES.join(', ')}`);
      }
      if (content === null || typeof content === 'string')
        throw new TwilioError(400, 21201, 'Missing required file Content');
      // "If a Function Version creation request is submitted with a path not containing a leading slash, the path
      // will automatically be prepended with one." (the spec, path)
      const path = rawPath.startsWith('/') ? rawPath : `/${rawPath}`;
      if (path.length > 255) throw badRequest('Path must be at most 255 characters');
      const version: ServerlessVersion = {
        kind,
        sid: newSid('ZN'),
        serviceSid: r.serviceSid,
        resourceSid: r.sid,
        path,
        visibility: visibility as Visibility,
        content: Buffer.from(await content.arrayBuffer()),
        contentType: content.type || (kind === 'function' ? 'application/javascript' : 'application/octet-stream'),
        dateCreated: emu.clock.now(),
      };
      emu.state.serverless.versions.set(version.sid, version);
      return { status: 201, body: view.version(req, version) };
    });
  }
}
