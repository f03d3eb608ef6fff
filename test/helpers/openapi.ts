/**
 * Response validation against Twilio's official OpenAPI specs (extracted into test/contract/twilio-oai, see its
 * SOURCE.md) with ajv. Two adjustments: `nullable` without a `type` is dropped (ajv refuses it), and since the specs
 * mark nothing required, every documented property of a response object is made required, so a missing field fails.
 */
import Ajv, { type ValidateFunction } from 'ajv';
import addFormats from 'ajv-formats';
import { fullFormats } from 'ajv-formats/dist/formats';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { EXTRACTED_SPEC_DIR, SPEC_FAMILIES, pathSkeleton } from '../../scripts/lib/openapi-extract';

const SPEC_DIR = join(__dirname, '..', '..', EXTRACTED_SPEC_DIR);
export const SPEC_FILES = SPEC_FAMILIES.map(({ file }) => file);

type Json = Record<string, unknown>;

/** Walks a schema tree, fixing `nullable` without `type` and making documented properties required. */
function prepare(node: unknown): void {
  if (Array.isArray(node)) return node.forEach(prepare);
  if (!node || typeof node !== 'object') return;
  const schema = node as Json;
  if ('nullable' in schema && !('type' in schema)) delete schema.nullable;
  if (schema.properties && typeof schema.properties === 'object' && !Array.isArray(schema.properties)) {
    const names = Object.keys(schema.properties as Json);
    if (names.length > 0 && !names.includes('$ref')) schema.required = names;
  }
  for (const value of Object.values(schema)) prepare(value);
}

export interface SpecOperation {
  spec: string;
  path: string;
  method: string;
}

export class OpenApiValidator {
  private readonly ajv: Ajv;
  private readonly specs: Array<{ id: string; doc: Json }> = [];
  private readonly compiled = new Map<string, ValidateFunction>();

  constructor() {
    this.ajv = new Ajv({ strict: false, allErrors: true, validateFormats: true });
    addFormats(this.ajv);
    // API 2010 answers `uri`, `first_page_uri`… as paths relative to its host although the spec says format uri.
    this.ajv.addFormat('uri', fullFormats['uri-reference']);
    this.ajv.addFormat(
      'date-time-rfc-2822',
      /^(Mon|Tue|Wed|Thu|Fri|Sat|Sun), \d{2} (Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) \d{4} \d{2}:\d{2}:\d{2} \+0000$/,
    );
    for (const name of [
      'endpoint',
      'currency',
      'uri-map',
      'ice-server',
      'http-method',
      'twiml',
      'iso-country-code',
      'phone-number',
      'phone-number-capabilities',
    ]) {
      this.ajv.addFormat(name, true);
    }
    this.ajv.addFormat('int64', true);
    this.ajv.addFormat('int32', true);
    for (const file of SPEC_FILES) {
      const doc = JSON.parse(readFileSync(join(SPEC_DIR, file), 'utf8')) as Json;
      prepare((doc.components as Json).schemas);
      prepare(doc.paths);
      this.ajv.addSchema({ $id: file, components: doc.components }, file);
      this.specs.push({ id: file, doc });
    }
  }

  /**
   * The spec operation that documents this emulator route, e.g. ('GET', '/v1/Services/:ServiceSid/Maps'). With a
   * family, only that family's spec is searched (Sync and Serverless share paths such as /v1/Services/{Sid}).
   */
  operation(method: string, emulatorPattern: string, family?: string): SpecOperation | undefined {
    const wanted = pathSkeleton(emulatorPattern);
    const file = family === undefined ? undefined : SPEC_FAMILIES.find((f) => f.family === family)?.file;
    for (const { id, doc } of this.specs.filter((spec) => family === undefined || spec.id === file)) {
      for (const [path, item] of Object.entries(doc.paths as Json)) {
        if (pathSkeleton(path) === wanted && (item as Json)[method.toLowerCase()])
          return { spec: id, path, method: method.toLowerCase() };
      }
    }
    return undefined;
  }

  /** Validates a response body; returns ajv's error list (empty when valid). */
  validate(op: SpecOperation, status: number, body: unknown): string[] {
    const key = `${op.spec} ${op.method} ${op.path} ${status}`;
    let validate = this.compiled.get(key);
    if (!validate) {
      const doc = this.specs.find((s) => s.id === op.spec)!.doc;
      const responses = ((doc.paths as Json)[op.path] as Json)[op.method] as Json;
      const response = (responses.responses as Json)[String(status)] as Json | undefined;
      if (!response) return [`the spec documents no ${status} answer for ${op.method.toUpperCase()} ${op.path}`];
      const schema = ((response.content as Json)['application/json'] as Json).schema as Json;
      // Rewrite local refs so they resolve inside the registered spec.
      const rewritten = JSON.parse(JSON.stringify(schema).replace(/"#\/components\//g, `"${op.spec}#/components/`));
      validate = this.ajv.compile(rewritten);
      this.compiled.set(key, validate);
    }
    return validate(body) ? [] : (validate.errors ?? []).map((e) => `${e.instancePath || '/'} ${e.message}`);
  }
}
