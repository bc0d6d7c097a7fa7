/** No server of a set can serve the query. `cause` is the last driver error. */
export class NoDatabaseAvailableError extends Error {
  override readonly name = 'NoDatabaseAvailableError';

  constructor(
    readonly set: string,
    readonly server: string,
    options?: { cause?: unknown },
  ) {
    const cause = describeCause(options?.cause);
    super(
      `No server of database set "${set}" can serve this query (last tried: ${server}${cause ? `: ${cause}` : ''}). ` +
        'Check that the primary is up and reachable; reads fall back to it when every replica is down.',
      options,
    );
  }
}

/**
 * The driver error in a few words. Node reports a refused connection to a name with several
 * addresses as an AggregateError with an empty message. Not `instanceof Error`: errors made by
 * Node's own modules may come from another realm (a VM context, as in Jest).
 */
function describeCause(cause: unknown): string | undefined {
  if (typeof cause !== 'object' || cause === null) return undefined;
  const { message, code, errors } = cause as { message?: unknown; code?: unknown; errors?: { message?: unknown }[] };
  const inner = Array.isArray(errors) ? errors.find((error) => error?.message)?.message : undefined;
  return String(message || inner || code || '') || undefined;
}
