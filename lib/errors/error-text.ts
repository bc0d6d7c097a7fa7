/**
 * What went wrong, in a few words, for a log line or an error message. Node reports a refused
 * connection to a name with several addresses as an AggregateError with an empty message: the
 * first inner error's message, or the code, says more. Not `instanceof Error`: errors made by
 * Node's own modules may come from another realm (a VM context, as in Jest).
 */
export function errorText(error: unknown): string {
  if (typeof error !== 'object' || error === null) return String(error);
  const { message, code, errors } = error as { message?: unknown; code?: unknown; errors?: { message?: unknown }[] };
  const inner = Array.isArray(errors) ? errors.find((each) => each?.message)?.message : undefined;
  return String(message || inner || code || error);
}
