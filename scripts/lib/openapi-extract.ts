/**
 * Cuts an official Twilio OpenAPI spec down to the operations the emulator serves and the components they reference,
 * so the contract test can validate against Twilio's own schemas without the repository carrying megabytes of JSON.
 * Pure: no I/O (scripts/extract-openapi.ts reads and writes the files).
 */

type Json = Record<string, unknown>;

/** A route pattern reduced to its shape: `{Sid}` (spec) and `:Sid` (emulator) both become `{}`. */
export const pathSkeleton = (path: string): string => path.replace(/\{[^}]+\}/g, '{}').replace(/:[A-Za-z]+/g, '{}');

export interface ServedRoute {
  method: string;
  pattern: string;
}

const HTTP_METHODS = new Set(['get', 'post', 'put', 'patch', 'delete', 'head', 'options']);

/** Every `#/components/<kind>/<name>` reference inside a JSON value. */
function refsIn(node: unknown, found: Set<string>): void {
  if (Array.isArray(node)) return node.forEach((child) => refsIn(child, found));
  if (!node || typeof node !== 'object') return;
  for (const [key, value] of Object.entries(node as Json)) {
    if (key === '$ref' && typeof value === 'string' && value.startsWith('#/components/')) found.add(value);
    else refsIn(value, found);
  }
}

/**
 * The spec with only the paths (and, per path, only the methods) that `routes` serve, plus every component those
 * operations reach, transitively. Top-level metadata (openapi, info, servers, security) is kept as it is.
 */
export function extractSpec(doc: Json, routes: ServedRoute[]): Json {
  const wanted = new Map<string, Set<string>>();
  for (const route of routes) {
    const skeleton = pathSkeleton(route.pattern);
    if (!wanted.has(skeleton)) wanted.set(skeleton, new Set());
    wanted.get(skeleton)!.add(route.method.toLowerCase());
  }

  const paths: Json = {};
  for (const [path, item] of Object.entries(doc.paths as Json)) {
    const methods = wanted.get(pathSkeleton(path));
    if (!methods) continue;
    const kept: Json = {};
    for (const [key, value] of Object.entries(item as Json)) {
      if (!HTTP_METHODS.has(key) || methods.has(key)) kept[key] = value;
    }
    if (Object.keys(kept).some((key) => HTTP_METHODS.has(key))) paths[path] = kept;
  }

  const components = (doc.components ?? {}) as Record<string, Json>;
  const keptComponents: Record<string, Json> = {};
  const pending = new Set<string>();
  refsIn(paths, pending);
  const seen = new Set<string>();
  while (pending.size > 0) {
    const ref = pending.values().next().value as string;
    pending.delete(ref);
    if (seen.has(ref)) continue;
    seen.add(ref);
    const [, , kind, name] = ref.split('/');
    const value = components[kind]?.[name];
    if (value === undefined) continue; // a dangling reference stays dangling: ajv reports it where it matters
    (keptComponents[kind] ??= {})[name] = value;
    refsIn(value, pending);
  }
  // Security schemes are referenced by name, not by $ref.
  if (components.securitySchemes) keptComponents.securitySchemes = components.securitySchemes;

  const out: Json = {};
  for (const [key, value] of Object.entries(doc)) {
    if (key === 'paths') out.paths = paths;
    else if (key === 'components') out.components = sortKeys(keptComponents);
    else out[key] = value;
  }
  return out;
}

function sortKeys(record: Record<string, Json>): Record<string, Json> {
  const sorted: Record<string, Json> = {};
  for (const kind of Object.keys(record).sort()) {
    sorted[kind] = Object.fromEntries(
      Object.keys(record[kind])
        .sort()
        .map((name) => [name, record[kind][name]]),
    );
  }
  return sorted;
}

/** Which official spec file documents which emulator family. IAM has no public spec (its shape is tested directly). */
export const SPEC_FAMILIES: ReadonlyArray<{ file: string; family: string }> = [
  { file: 'twilio_sync_v1.json', family: 'sync' },
  { file: 'twilio_taskrouter_v1.json', family: 'taskrouter' },
  { file: 'twilio_api_v2010.json', family: 'api' },
  { file: 'twilio_events_v1.json', family: 'events' },
  // serverless-upload's Version creation is not in the spec; the contract test checks it against the Version schema.
  { file: 'twilio_serverless_v1.json', family: 'serverless' },
];

/** Where the extracted specs live in this repository, relative to its root. */
export const EXTRACTED_SPEC_DIR = 'test/contract/twilio-oai';
