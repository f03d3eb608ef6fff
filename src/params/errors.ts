/**
 * What is wrong with a request's parameters, as the domain sees it. The messages are written for the caller (they
 * name the parameter and the rule, never a secret); src/http/error-response.ts maps each to a status and code.
 */

/** The request as a whole is malformed (its shape, a header, a body that is not what the endpoint takes). */
export class InvalidRequest extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'InvalidRequest';
  }
}

/** One named parameter breaks its rule: it is `malformed`, or well formed but `out-of-range`. */
export class InvalidParameter extends InvalidRequest {
  constructor(
    readonly parameter: string,
    message: string,
    readonly problem: 'malformed' | 'out-of-range' = 'malformed',
  ) {
    super(message);
    this.name = 'InvalidParameter';
  }
}
