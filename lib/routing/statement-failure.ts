import { driverErrorOf, serverFailure } from '../health/server-failure.js';
import type { StatementFailure } from './read-policy.js';

const READ_ONLY_TRANSACTION = '25006';
/** object_not_in_prerequisite_state and feature_not_supported, as a standby raises them for what only a primary can do. */
const DURING_RECOVERY_STATES = new Set(['55000', '0A000']);
const DURING_RECOVERY = /during recovery|recovery is in progress/i;

/** What a failed statement says for routing (see read-policy.ts); undefined: the statement itself failed. */
export function statementFailure(error: unknown): StatementFailure | undefined {
  const { code, message } = driverErrorOf(error);
  if (code === READ_ONLY_TRANSACTION || (code !== undefined && DURING_RECOVERY_STATES.has(code) && DURING_RECOVERY.test(message))) return 'needs-primary';
  return serverFailure(error);
}
