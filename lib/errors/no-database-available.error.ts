/** No server of a set can serve the query. `cause` is the last driver error. */
export class NoDatabaseAvailableError extends Error {
  override readonly name = 'NoDatabaseAvailableError';

  constructor(
    readonly set: string,
    readonly server: string,
    options?: { cause?: unknown },
  ) {
    super(
      `No server of database set "${set}" can serve this query (last tried: ${server}` +
        `${options?.cause instanceof Error ? `: ${options.cause.message}` : ''}). ` +
        'Check that the primary is up and reachable; reads fall back to it when every replica is down.',
      options,
    );
  }
}
