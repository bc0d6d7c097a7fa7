import { errorText } from './error-text.js';

/** No server of a set can serve the query. `cause` is the last driver error. */
export class NoDatabaseAvailableError extends Error {
  override readonly name = 'NoDatabaseAvailableError';

  constructor(
    readonly set: string,
    readonly server: string,
    options?: { cause?: unknown },
  ) {
    const cause = options?.cause === undefined ? undefined : errorText(options.cause);
    super(
      `No server of database set "${set}" can serve this query (last tried: ${server}${cause ? `: ${cause}` : ''}). ` +
        'Check that the primary is up and reachable; reads fall back to it when every replica is down.',
      options,
    );
  }
}
