/** Why /sync-token cannot put a verified caller into a token (src/http/error-response.ts maps it to HTTP). */

/** IAM vouched for the Flex token but named an identity that cannot go into an Access Token (`problem` says why). */
export class FlexIdentityRejected extends Error {
  constructor(
    readonly problem: string,
    message: string,
  ) {
    super(message);
    this.name = 'FlexIdentityRejected';
  }
}
