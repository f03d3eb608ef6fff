/**
 * Serverless v1 (https://serverless.twilio.com/v1), the API twilio-run deploy drives (see
 * @twilio-labs/serverless-api src/api/*): Services, Environments, Variables, Functions and Assets with their Versions
 * (uploaded through serverless-upload.ts), Builds and their Status, Deployments and Logs. Shapes follow the official
 * spec (twilio_serverless_v1.json); the contract test validates them. Reached only by host (serverless.twilio.com):
 * Sync owns the same /v1/Services paths.
 */
import { DAY_MS, isoDate } from '../core/clock';
import { badRequest, notFound, TwilioError } from '../core/errors';
import { metaPage } from '../core/paging';
import type { EmuRequest, EmuResponse, Router } from '../core/router';
import { newSid } from '../core/sids';
import type { Emulator } from '../server';
import { buildFailure, layOutBuild, parseDependencies } from '../serverless/build';
import type {
  ServerlessBuild,
  ServerlessDeployment,
  ServerlessEnvironment,
  ServerlessLog,
  ServerlessResource,
  ServerlessService,
  ServerlessVariable,
  ServerlessVersion,
} from '../serverless/state';

/** The runtime a build gets when none is named (unconfirmed: the cloud's default has moved with each release). */
export const DEFAULT_RUNTIME = 'node22';
const URL_NAME = /^[a-zA-Z0-9-]+$/;

function bool(value: string | null, fallback: boolean): boolean {
  if (value === null) return fallback;
  if (value === 'true' || value === 'True') return true;
  if (value === 'false' || value === 'False') return false;
  throw badRequest(`Invalid boolean: ${value}`);
}

function required(req: EmuRequest, name: string): string {
  const value = req.form.get(name);
  if (value === null || value === '')
    throw new TwilioError(400, 21201, `Missing required parameter ${name} in the post body`);
  return value;
}

/** The serverless.twilio.com base for URLs in answers, also when the request came to serverless-upload. */
function apiBase(req: EmuRequest): string {
  return `${req.baseUrl.replace('serverless-upload.twilio.com', 'serverless.twilio.com')}/v1/Services`;
}

export function renderServerless(emu: Emulator) {
  const account = () => emu.config.accountSid;
  return {
    service: (req: EmuRequest, s: ServerlessService) => {
      const url = `${apiBase(req)}/${s.sid}`;
      return {
        sid: s.sid,
        account_sid: account(),
        friendly_name: s.friendlyName,
        unique_name: s.uniqueName,
        include_credentials: s.includeCredentials,
        ui_editable: s.uiEditable,
        domain_base: s.domainBase,
        date_created: isoDate(s.dateCreated),
        date_updated: isoDate(s.dateUpdated),
        url,
        links: {
          functions: `${url}/Functions`,
          assets: `${url}/Assets`,
          environments: `${url}/Environments`,
          builds: `${url}/Builds`,
        },
      };
    },
    environment: (req: EmuRequest, e: ServerlessEnvironment) => {
      const url = `${apiBase(req)}/${e.serviceSid}/Environments/${e.sid}`;
      return {
        sid: e.sid,
        account_sid: account(),
        service_sid: e.serviceSid,
        build_sid: e.buildSid,
        unique_name: e.uniqueName,
        domain_suffix: e.domainSuffix,
        domain_name: e.domainName,
        date_created: isoDate(e.dateCreated),
        date_updated: isoDate(e.dateUpdated),
        url,
        links: { variables: `${url}/Variables`, deployments: `${url}/Deployments`, logs: `${url}/Logs` },
      };
    },
    variable: (req: EmuRequest, v: ServerlessVariable) => ({
      sid: v.sid,
      account_sid: account(),
      service_sid: v.serviceSid,
      environment_sid: v.environmentSid,
      key: v.key,
      value: v.value,
      date_created: isoDate(v.dateCreated),
      date_updated: isoDate(v.dateUpdated),
      url: `${apiBase(req)}/${v.serviceSid}/Environments/${v.environmentSid}/Variables/${v.sid}`,
    }),
    resource: (req: EmuRequest, r: ServerlessResource) => {
      const url = `${apiBase(req)}/${r.serviceSid}/${r.kind === 'function' ? 'Functions' : 'Assets'}/${r.sid}`;
      return {
        sid: r.sid,
        account_sid: account(),
        service_sid: r.serviceSid,
        friendly_name: r.friendlyName,
        date_created: isoDate(r.dateCreated),
        date_updated: isoDate(r.dateUpdated),
        url,
        links: r.kind === 'function' ? { function_versions: `${url}/Versions` } : { asset_versions: `${url}/Versions` },
      };
    },
    version: (req: EmuRequest, v: ServerlessVersion) => {
      const url = `${apiBase(req)}/${v.serviceSid}/${v.kind === 'function' ? 'Functions' : 'Assets'}/${v.resourceSid}/Versions/${v.sid}`;
      const common = {
        sid: v.sid,
        account_sid: account(),
        service_sid: v.serviceSid,
        path: v.path,
        visibility: v.visibility,
        date_created: isoDate(v.dateCreated),
        url,
      };
      return v.kind === 'function'
        ? { ...common, function_sid: v.resourceSid, links: { function_version_content: `${url}/Content` } }
        : { ...common, asset_sid: v.resourceSid };
    },
    build: (req: EmuRequest, b: ServerlessBuild) => {
      const url = `${apiBase(req)}/${b.serviceSid}/Builds/${b.sid}`;
      const state = emu.state.serverless;
      const versionSummary = (sid: string) => {
        const v = state.versions.get(sid)!;
        const rendered = renderServerless(emu).version(req, v) as Record<string, unknown>;
        delete rendered.links;
        return rendered;
      };
      return {
        sid: b.sid,
        account_sid: account(),
        service_sid: b.serviceSid,
        status: b.status,
        asset_versions: b.assetVersions.map(versionSummary),
        function_versions: b.functionVersions.map(versionSummary),
        dependencies: b.dependencies,
        runtime: b.runtime,
        date_created: isoDate(b.dateCreated),
        date_updated: isoDate(b.dateUpdated),
        url,
        links: { build_status: `${url}/Status` },
      };
    },
    deployment: (req: EmuRequest, d: ServerlessDeployment) => ({
      sid: d.sid,
      account_sid: account(),
      service_sid: d.serviceSid,
      environment_sid: d.environmentSid,
      build_sid: d.buildSid,
      date_created: isoDate(d.dateCreated),
      date_updated: isoDate(d.dateUpdated),
      url: `${apiBase(req)}/${d.serviceSid}/Environments/${d.environmentSid}/Deployments/${d.sid}`,
    }),
    log: (req: EmuRequest, l: ServerlessLog) => ({
      sid: l.sid,
      account_sid: account(),
      service_sid: l.serviceSid,
      environment_sid: l.environmentSid,
      build_sid: l.buildSid,
      deployment_sid: l.deploymentSid,
      function_sid: l.functionSid,
      request_sid: l.requestSid,
      level: l.level,
      message: l.message,
      date_created: isoDate(l.dateCreated),
      url: `${apiBase(req)}/${l.serviceSid}/Environments/${l.environmentSid}/Logs/${l.sid}`,
    }),
  };
}

/** Lookups shared with the upload host: each 404s the way the real API does (code 20404). */
export function serverlessLookups(emu: Emulator) {
  const state = () => emu.state.serverless;
  const service = (sidOrName: string): ServerlessService => {
    const byName = [...state().services.values()].find((s) => s.uniqueName === sidOrName);
    const found = state().services.get(sidOrName) ?? byName;
    if (!found) throw notFound(20404, `The requested resource /Services/${sidOrName} was not found`);
    return found;
  };
  const environment = (s: ServerlessService, sidOrName: string): ServerlessEnvironment => {
    const found = [...state().environments.values()].find(
      (e) => e.serviceSid === s.sid && (e.sid === sidOrName || e.uniqueName === sidOrName),
    );
    if (!found)
      throw notFound(20404, `The requested resource /Services/${s.sid}/Environments/${sidOrName} was not found`);
    return found;
  };
  const resource = (s: ServerlessService, kind: 'function' | 'asset', sid: string): ServerlessResource => {
    const found = state().resources.get(sid);
    if (!found || found.serviceSid !== s.sid || found.kind !== kind) {
      throw notFound(
        20404,
        `The requested resource /Services/${s.sid}/${kind === 'function' ? 'Functions' : 'Assets'}/${sid} was not found`,
      );
    }
    return found;
  };
  return { service, environment, resource };
}

/** Finishes a build after it was accepted: fails it with a reason, or lays it out and completes it. */
function finishBuild(emu: Emulator, build: ServerlessBuild): void {
  const state = emu.state.serverless;
  if (state.builds.get(build.sid) !== build) return; // the emulator was reset meanwhile
  build.failure = buildFailure(build);
  if (build.failure === null) {
    const versions = [...build.functionVersions, ...build.assetVersions].map((sid) => state.versions.get(sid)!);
    try {
      build.directory = layOutBuild(emu.functionsRuntime.buildsFolder(), build, versions);
    } catch (error) {
      build.failure = `The build could not be laid out: ${(error as Error).message}`;
    }
  }
  build.status = build.failure === null ? 'completed' : 'failed';
  build.dateUpdated = emu.clock.now();
  if (build.failure) console.warn(`[emulator] build ${build.sid} failed: ${build.failure}`);
}

export function registerServerless(router: Router, emu: Emulator): void {
  const add = (method: string, pattern: string, handler: (req: EmuRequest) => EmuResponse) =>
    router.add('serverless', method, pattern, handler);
  const state = () => emu.state.serverless;
  const view = renderServerless(emu);
  const { service, environment, resource } = serverlessLookups(emu);
  const now = () => emu.clock.now();
  const ok = (body: unknown, status = 200): EmuResponse => ({ status, body });

  // ----- Services
  add('GET', '/v1/Services', (req) =>
    ok(metaPage(req, 'services', [...state().services.values()], (s) => view.service(req, s))),
  );
  add('POST', '/v1/Services', (req) => {
    const uniqueName = required(req, 'UniqueName');
    const friendlyName = required(req, 'FriendlyName');
    if (uniqueName.length > 50 || !URL_NAME.test(uniqueName)) {
      throw badRequest('UniqueName must be at most 50 letters, digits or dashes');
    }
    if ([...state().services.values()].some((s) => s.uniqueName === uniqueName)) {
      // Code unconfirmed; twilio-run treats any failure here as "exists" and looks the service up by name.
      throw new TwilioError(409, 20409, `Service with UniqueName ${uniqueName} already exists`);
    }
    // domain_base: "a combination of the unique name and a randomly generated string" (the spec); digits here.
    const digits = String(1000 + Math.floor(Math.random() * 9000));
    const s: ServerlessService = {
      sid: newSid('ZS'),
      uniqueName,
      friendlyName,
      includeCredentials: bool(req.form.get('IncludeCredentials'), true),
      uiEditable: bool(req.form.get('UiEditable'), false),
      domainBase: `${uniqueName}-${digits}`,
      dateCreated: now(),
      dateUpdated: now(),
    };
    state().services.set(s.sid, s);
    return ok(view.service(req, s), 201);
  });
  add('GET', '/v1/Services/:Sid', (req) => ok(view.service(req, service(req.params.Sid))));
  add('POST', '/v1/Services/:Sid', (req) => {
    const s = service(req.params.Sid);
    s.includeCredentials = bool(req.form.get('IncludeCredentials'), s.includeCredentials);
    s.uiEditable = bool(req.form.get('UiEditable'), s.uiEditable);
    s.friendlyName = req.form.get('FriendlyName') ?? s.friendlyName;
    s.dateUpdated = now();
    return ok(view.service(req, s));
  });
  add('DELETE', '/v1/Services/:Sid', (req) => {
    const s = service(req.params.Sid);
    for (const e of [...state().environments.values()].filter((e) => e.serviceSid === s.sid))
      emu.functionsRuntime.deactivate(e.sid);
    state().services.delete(s.sid);
    for (const map of [
      state().environments,
      state().variables,
      state().resources,
      state().versions,
      state().builds,
      state().deployments,
    ]) {
      for (const [sid, item] of map) if ((item as { serviceSid: string }).serviceSid === s.sid) map.delete(sid);
    }
    return { status: 204 };
  });

  // ----- Environments
  add('GET', '/v1/Services/:ServiceSid/Environments', (req) => {
    const s = service(req.params.ServiceSid);
    const all = [...state().environments.values()].filter((e) => e.serviceSid === s.sid);
    return ok(metaPage(req, 'environments', all, (e) => view.environment(req, e)));
  });
  add('POST', '/v1/Services/:ServiceSid/Environments', (req) => {
    const s = service(req.params.ServiceSid);
    const uniqueName = required(req, 'UniqueName');
    const suffix = req.form.get('DomainSuffix');
    if (uniqueName.length > 100) throw badRequest('UniqueName must be at most 100 characters');
    if (suffix !== null && (suffix.length > 16 || !URL_NAME.test(suffix))) {
      throw badRequest('DomainSuffix must be at most 16 letters, digits or dashes');
    }
    const siblings = [...state().environments.values()].filter((e) => e.serviceSid === s.sid);
    if (siblings.some((e) => e.uniqueName === uniqueName))
      throw new TwilioError(409, 20409, `Environment ${uniqueName} already exists`);
    const domainSuffix = suffix === null || suffix === '' ? null : suffix;
    if (siblings.some((e) => e.domainSuffix === domainSuffix)) {
      throw new TwilioError(409, 20409, `An environment with domain suffix ${domainSuffix ?? '(none)'} already exists`);
    }
    const e: ServerlessEnvironment = {
      sid: newSid('ZE'),
      serviceSid: s.sid,
      uniqueName,
      domainSuffix,
      // "the Service unique name, a randomly-generated Service suffix, and an optional Environment domain suffix"
      domainName: `${s.domainBase}${domainSuffix ? `-${domainSuffix}` : ''}.twil.io`.toLowerCase(),
      buildSid: null,
      dateCreated: now(),
      dateUpdated: now(),
    };
    state().environments.set(e.sid, e);
    return ok(view.environment(req, e), 201);
  });
  add('GET', '/v1/Services/:ServiceSid/Environments/:Sid', (req) =>
    ok(view.environment(req, environment(service(req.params.ServiceSid), req.params.Sid))),
  );
  add('DELETE', '/v1/Services/:ServiceSid/Environments/:Sid', (req) => {
    const e = environment(service(req.params.ServiceSid), req.params.Sid);
    emu.functionsRuntime.deactivate(e.sid);
    state().environments.delete(e.sid);
    for (const [sid, v] of state().variables) if (v.environmentSid === e.sid) state().variables.delete(sid);
    return { status: 204 };
  });

  // ----- Variables
  const variable = (req: EmuRequest) => {
    const e = environment(service(req.params.ServiceSid), req.params.EnvironmentSid);
    const v = state().variables.get(req.params.Sid);
    if (!v || v.environmentSid !== e.sid)
      throw notFound(20404, `The requested resource Variables/${req.params.Sid} was not found`);
    return v;
  };
  const checkKey = (key: string) => {
    if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(key) || key.length > 128) throw badRequest(`Invalid variable key: ${key}`);
  };
  add('GET', '/v1/Services/:ServiceSid/Environments/:EnvironmentSid/Variables', (req) => {
    const e = environment(service(req.params.ServiceSid), req.params.EnvironmentSid);
    const all = [...state().variables.values()].filter((v) => v.environmentSid === e.sid);
    return ok(metaPage(req, 'variables', all, (v) => view.variable(req, v)));
  });
  add('POST', '/v1/Services/:ServiceSid/Environments/:EnvironmentSid/Variables', (req) => {
    const e = environment(service(req.params.ServiceSid), req.params.EnvironmentSid);
    const key = required(req, 'Key');
    const value = req.form.get('Value') ?? '';
    checkKey(key);
    if ([...state().variables.values()].some((v) => v.environmentSid === e.sid && v.key === key)) {
      throw new TwilioError(409, 20409, `Variable ${key} already exists`);
    }
    const v: ServerlessVariable = {
      sid: newSid('ZV'),
      serviceSid: e.serviceSid,
      environmentSid: e.sid,
      key,
      value,
      dateCreated: now(),
      dateUpdated: now(),
    };
    state().variables.set(v.sid, v);
    return ok(view.variable(req, v), 201);
  });
  add('GET', '/v1/Services/:ServiceSid/Environments/:EnvironmentSid/Variables/:Sid', (req) =>
    ok(view.variable(req, variable(req))),
  );
  add('POST', '/v1/Services/:ServiceSid/Environments/:EnvironmentSid/Variables/:Sid', (req) => {
    const v = variable(req);
    const key = req.form.get('Key');
    if (key !== null) checkKey(key);
    v.key = key ?? v.key;
    v.value = req.form.get('Value') ?? v.value;
    v.dateUpdated = now();
    return ok(view.variable(req, v));
  });
  add('DELETE', '/v1/Services/:ServiceSid/Environments/:EnvironmentSid/Variables/:Sid', (req) => {
    state().variables.delete(variable(req).sid);
    return { status: 204 };
  });

  // ----- Functions and Assets (their Versions are created on serverless-upload.twilio.com)
  for (const [kind, plural, versionsKey] of [
    ['function', 'Functions', 'function_versions'],
    ['asset', 'Assets', 'asset_versions'],
  ] as const) {
    const key = kind === 'function' ? 'functions' : 'assets';
    add('GET', `/v1/Services/:ServiceSid/${plural}`, (req) => {
      const s = service(req.params.ServiceSid);
      const all = [...state().resources.values()].filter((r) => r.serviceSid === s.sid && r.kind === kind);
      return ok(metaPage(req, key, all, (r) => view.resource(req, r)));
    });
    add('POST', `/v1/Services/:ServiceSid/${plural}`, (req) => {
      const s = service(req.params.ServiceSid);
      const friendlyName = required(req, 'FriendlyName');
      if (friendlyName.length > 255) throw badRequest('FriendlyName must be at most 255 characters');
      const r: ServerlessResource = {
        kind,
        sid: newSid('ZH'),
        serviceSid: s.sid,
        friendlyName,
        dateCreated: now(),
        dateUpdated: now(),
      };
      state().resources.set(r.sid, r);
      return ok(view.resource(req, r), 201);
    });
    add('GET', `/v1/Services/:ServiceSid/${plural}/:Sid`, (req) =>
      ok(view.resource(req, resource(service(req.params.ServiceSid), kind, req.params.Sid))),
    );
    add('POST', `/v1/Services/:ServiceSid/${plural}/:Sid`, (req) => {
      const r = resource(service(req.params.ServiceSid), kind, req.params.Sid);
      r.friendlyName = required(req, 'FriendlyName');
      r.dateUpdated = now();
      return ok(view.resource(req, r));
    });
    add('DELETE', `/v1/Services/:ServiceSid/${plural}/:Sid`, (req) => {
      const r = resource(service(req.params.ServiceSid), kind, req.params.Sid);
      state().resources.delete(r.sid);
      return { status: 204 };
    });
    const parent = kind === 'function' ? 'FunctionSid' : 'AssetSid';
    add('GET', `/v1/Services/:ServiceSid/${plural}/:${parent}/Versions`, (req) => {
      const r = resource(service(req.params.ServiceSid), kind, req.params[parent]);
      const all = [...state().versions.values()].filter((v) => v.resourceSid === r.sid);
      return ok(metaPage(req, versionsKey, all, (v) => view.version(req, v)));
    });
    const version = (req: EmuRequest) => {
      const r = resource(service(req.params.ServiceSid), kind, req.params[parent]);
      const v = state().versions.get(req.params.Sid);
      if (!v || v.resourceSid !== r.sid)
        throw notFound(20404, `The requested resource Versions/${req.params.Sid} was not found`);
      return v;
    };
    add('GET', `/v1/Services/:ServiceSid/${plural}/:${parent}/Versions/:Sid`, (req) =>
      ok(view.version(req, version(req))),
    );
    if (kind === 'function') {
      add('GET', '/v1/Services/:ServiceSid/Functions/:FunctionSid/Versions/:Sid/Content', (req) => {
        const v = version(req);
        return ok({
          sid: v.sid,
          account_sid: emu.config.accountSid,
          service_sid: v.serviceSid,
          function_sid: v.resourceSid,
          content: v.content.toString('utf8'),
          url: `${apiBase(req)}/${v.serviceSid}/Functions/${v.resourceSid}/Versions/${v.sid}/Content`,
        });
      });
    }
  }

  // ----- Builds
  const build = (req: EmuRequest) => {
    const s = service(req.params.ServiceSid);
    const b = state().builds.get(req.params.Sid);
    if (!b || b.serviceSid !== s.sid)
      throw notFound(20404, `The requested resource Builds/${req.params.Sid} was not found`);
    return b;
  };
  add('GET', '/v1/Services/:ServiceSid/Builds', (req) => {
    const s = service(req.params.ServiceSid);
    const all = [...state().builds.values()].filter((b) => b.serviceSid === s.sid);
    return ok(metaPage(req, 'builds', all, (b) => view.build(req, b)));
  });
  add('POST', '/v1/Services/:ServiceSid/Builds', (req) => {
    const s = service(req.params.ServiceSid);
    const versionsOf = (name: string, kind: 'function' | 'asset') => {
      const sids = req.form.getAll(name);
      for (const sid of sids) {
        const v = state().versions.get(sid);
        if (!v || v.serviceSid !== s.sid || v.kind !== kind)
          throw badRequest(`${name}: ${sid} is not a ${kind} version of this service`);
      }
      return sids;
    };
    const functionVersions = versionsOf('FunctionVersions', 'function');
    const assetVersions = versionsOf('AssetVersions', 'asset');
    const dependencies = parseDependencies(req.form.get('Dependencies'));
    if (typeof dependencies === 'string') throw badRequest(dependencies);
    const paths = [...functionVersions, ...assetVersions].map((sid) => state().versions.get(sid)!.path);
    const duplicate = paths.find((path, i) => paths.indexOf(path) !== i);
    if (duplicate) throw badRequest(`Two versions in the build share the path ${duplicate}`);
    const b: ServerlessBuild = {
      sid: newSid('ZB'),
      serviceSid: s.sid,
      status: 'building',
      functionVersions,
      assetVersions,
      dependencies,
      runtime: req.form.get('Runtime') || DEFAULT_RUNTIME,
      failure: null,
      directory: null,
      dateCreated: now(),
      dateUpdated: now(),
    };
    state().builds.set(b.sid, b);
    // The real build runs in the background while clients poll Builds/{Sid}/Status.
    setImmediate(() => finishBuild(emu, b));
    return ok(view.build(req, b), 201);
  });
  add('GET', '/v1/Services/:ServiceSid/Builds/:Sid', (req) => ok(view.build(req, build(req))));
  add('DELETE', '/v1/Services/:ServiceSid/Builds/:Sid', (req) => {
    const b = build(req);
    if ([...state().environments.values()].some((e) => e.buildSid === b.sid)) {
      throw new TwilioError(409, 20409, 'The build is deployed to an environment'); // unconfirmed code
    }
    state().builds.delete(b.sid);
    return { status: 204 };
  });
  add('GET', '/v1/Services/:ServiceSid/Builds/:Sid/Status', (req) => {
    const b = build(req);
    return ok({
      sid: b.sid,
      account_sid: emu.config.accountSid,
      service_sid: b.serviceSid,
      status: b.status,
      url: `${apiBase(req)}/${b.serviceSid}/Builds/${b.sid}/Status`,
    });
  });

  // ----- Deployments
  add('GET', '/v1/Services/:ServiceSid/Environments/:EnvironmentSid/Deployments', (req) => {
    const e = environment(service(req.params.ServiceSid), req.params.EnvironmentSid);
    const all = [...state().deployments.values()].filter((d) => d.environmentSid === e.sid);
    return ok(metaPage(req, 'deployments', all, (d) => view.deployment(req, d)));
  });
  add('POST', '/v1/Services/:ServiceSid/Environments/:EnvironmentSid/Deployments', (req) => {
    const s = service(req.params.ServiceSid);
    const e = environment(s, req.params.EnvironmentSid);
    const buildSid = required(req, 'BuildSid');
    const b = state().builds.get(buildSid);
    if (!b || b.serviceSid !== s.sid) throw notFound(20404, `The requested resource Builds/${buildSid} was not found`);
    if (b.status !== 'completed')
      throw badRequest(`Build ${b.sid} is ${b.status}; only a completed build can be deployed`);
    const d: ServerlessDeployment = {
      sid: newSid('ZD'),
      serviceSid: s.sid,
      environmentSid: e.sid,
      buildSid: b.sid,
      dateCreated: now(),
      dateUpdated: now(),
    };
    state().deployments.set(d.sid, d);
    e.buildSid = b.sid;
    e.dateUpdated = now();
    emu.functionsRuntime.deactivate(e.sid); // the domain serves the new build from its next request on
    return ok(view.deployment(req, d), 201);
  });
  add('GET', '/v1/Services/:ServiceSid/Environments/:EnvironmentSid/Deployments/:Sid', (req) => {
    const e = environment(service(req.params.ServiceSid), req.params.EnvironmentSid);
    const d = state().deployments.get(req.params.Sid);
    if (!d || d.environmentSid !== e.sid)
      throw notFound(20404, `The requested resource Deployments/${req.params.Sid} was not found`);
    return ok(view.deployment(req, d));
  });

  // ----- The emulator's record of what was deployed (admin API; variable names only, never their values)
  router.add(
    'admin',
    'GET',
    '/__admin/serverless',
    () => ({ status: 200, body: { services: [...state().services.values()].map(record) } }),
    true,
  );
  const record = (s: ServerlessService) => {
    const versions = (sids: string[]) =>
      sids.map((sid) => {
        const v = state().versions.get(sid)!;
        return {
          sid: v.sid,
          path: v.path,
          visibility: v.visibility,
          contentType: v.contentType,
          bytes: v.content.length,
        };
      });
    return {
      sid: s.sid,
      uniqueName: s.uniqueName,
      includeCredentials: s.includeCredentials,
      environments: [...state().environments.values()]
        .filter((e) => e.serviceSid === s.sid)
        .map((e) => ({
          sid: e.sid,
          uniqueName: e.uniqueName,
          domainSuffix: e.domainSuffix,
          domainName: e.domainName,
          buildSid: e.buildSid,
          variableNames: [...state().variables.values()]
            .filter((v) => v.environmentSid === e.sid)
            .map((v) => v.key)
            .sort(),
          deployments: [...state().deployments.values()]
            .filter((d) => d.environmentSid === e.sid)
            .map((d) => d.buildSid),
        })),
      builds: [...state().builds.values()]
        .filter((b) => b.serviceSid === s.sid)
        .map((b) => ({
          sid: b.sid,
          status: b.status,
          failure: b.failure,
          runtime: b.runtime,
          dependencies: b.dependencies,
          functions: versions(b.functionVersions),
          assets: versions(b.assetVersions),
        })),
    };
  };

  // ----- Logs (what deployed functions printed; twilio-run logs reads them)
  add('GET', '/v1/Services/:ServiceSid/Environments/:EnvironmentSid/Logs', (req) => {
    const e = environment(service(req.params.ServiceSid), req.params.EnvironmentSid);
    const functionSid = req.query.get('FunctionSid');
    const start = req.query.get('StartDate') ? Date.parse(req.query.get('StartDate')!) : now() - DAY_MS;
    const end = req.query.get('EndDate') ? Date.parse(req.query.get('EndDate')!) : Number.POSITIVE_INFINITY;
    if (Number.isNaN(start) || Number.isNaN(end)) throw badRequest('StartDate and EndDate must be ISO 8601 dates');
    const all = state()
      .logs.filter((l) => l.environmentSid === e.sid && (!functionSid || l.functionSid === functionSid))
      .filter((l) => l.dateCreated >= start && l.dateCreated <= end)
      .reverse(); // newest first, as the real list answers
    return ok(metaPage(req, 'logs', all, (l) => view.log(req, l)));
  });
  add('GET', '/v1/Services/:ServiceSid/Environments/:EnvironmentSid/Logs/:Sid', (req) => {
    const e = environment(service(req.params.ServiceSid), req.params.EnvironmentSid);
    const l = state().logs.find((entry) => entry.sid === req.params.Sid && entry.environmentSid === e.sid);
    if (!l) throw notFound(20404, `The requested resource Logs/${req.params.Sid} was not found`);
    return ok(view.log(req, l));
  });
}
