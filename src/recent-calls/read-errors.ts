/** Why /recent-calls refused or could not finish a read (src/http/error-response.ts maps each to HTTP). */

/**
 * A `Token` parameter. The runtime merges the query string into the parameters, so it may have come from the URL
 * (URLs end up in access logs and browser history): the token is taken only from `Authorization: Bearer`.
 */
export class TokenInParameters extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'TokenInParameters';
  }
}

/** The caller asked for another agent's calls without a supervisor role. */
export class WorkerNotAllowed extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'WorkerNotAllowed';
  }
}

/** The map could not be read as far as the page needs within the request's deadline (after `pages` Sync pages). */
export class MapReadOutOfTime extends Error {
  constructor(readonly pages: number) {
    super(`Reading the map took too long (${pages} pages)`);
    this.name = 'MapReadOutOfTime';
  }
}
