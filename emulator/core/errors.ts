/** Twilio's JSON error body and the exception the emulator's handlers throw to produce it. */

export interface TwilioErrorBody {
  code: number;
  message: string;
  more_info: string;
  status: number;
}

export class TwilioError extends Error {
  constructor(
    readonly status: number,
    readonly code: number,
    message: string,
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
  }

  toBody(): TwilioErrorBody {
    return {
      code: this.code,
      message: this.message,
      more_info: `https://www.twilio.com/docs/errors/${this.code}`,
      status: this.status,
    };
  }
}

export const notFound = (code = 20404, what = 'The requested resource was not found') =>
  new TwilioError(404, code, what);

export const badRequest = (message: string, code = 20001) => new TwilioError(400, code, message);
