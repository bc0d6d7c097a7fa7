import { PinDbConfigError } from '../errors/pin-db-config.error.js';

/** What a replica scope asks besides replicas (`@UseReplica(options)`, `routing.useReplica(fn, options)`). */
export interface ReplicaScopeOptions {
  /**
   * Only replicas at most this many ms behind their primary serve the scope's reads, by the health
   * monitor's last check (a replica whose lag it has not read does not qualify); none qualifies:
   * the primary. Default: undefined (any readable replica)
   */
  readonly maxLagMs?: number;
  /** A write inside throws ReplicaScopeWriteError before it is sent, and pins nothing. Default: false */
  readonly preventWrites?: boolean;
}

/** The options form of `@UseReplica(options)` and `routing.useReplica(fn, options)`. */
export interface UseReplicaOptions extends ReplicaScopeOptions {
  /** The sets whose reads stay on replicas; none (or []): every set. Default: every set */
  readonly sets?: readonly string[];
}

/** A replica scope's arguments, checked: the sets it names (none: every set) and its options. */
export interface ReplicaScopeArgs extends ReplicaScopeOptions {
  readonly sets: readonly string[];
}

const OPTION_KEYS = ['sets', 'maxLagMs', 'preventWrites'];

/**
 * The arguments of `@UseReplica(...)` / `routing.useReplica(fn, ...)` after `fn`: set names, or one
 * options object (a first argument that is an object). `call` names the call in error messages.
 * Set names are checked against the module's sets elsewhere (at bootstrap for the decorator, at
 * the call for routing.useReplica): this only knows their shape.
 */
export function replicaScopeArgs(call: string, args: readonly unknown[]): ReplicaScopeArgs {
  const [first] = args;
  if (typeof first !== 'object' || first === null) {
    for (const set of args) {
      if (typeof set !== 'string' || set === '') {
        throw new PinDbConfigError(`${call}: takes set names (strings) or one options object { sets, maxLagMs, preventWrites } (got ${describe(set)}).`);
      }
    }
    return { sets: args as string[] };
  }
  if (Array.isArray(first)) {
    throw new PinDbConfigError(`${call}: give the sets as separate arguments or as { sets: [...] }, not as an array (got ${describe(first)}).`);
  }
  if (args.length > 1) {
    throw new PinDbConfigError(`${call}: an options object is the only argument; name the sets in it: { sets: ['analytics'], ... }.`);
  }
  const options = first as Record<string, unknown>;
  for (const key of Object.keys(options)) {
    if (!OPTION_KEYS.includes(key)) throw new PinDbConfigError(`${call}: unknown option "${key}"; the options are ${OPTION_KEYS.join(', ')}.`);
  }
  const { sets = [], maxLagMs, preventWrites } = options;
  if (!Array.isArray(sets) || sets.some((set) => typeof set !== 'string' || set === '')) {
    throw new PinDbConfigError(`${call}: sets must be a list of set names, e.g. { sets: ['analytics'] } (got ${describe(sets)}).`);
  }
  if (maxLagMs !== undefined && (typeof maxLagMs !== 'number' || !Number.isFinite(maxLagMs) || maxLagMs < 0)) {
    throw new PinDbConfigError(`${call}: maxLagMs must be a number of milliseconds ≥ 0 (got ${describe(maxLagMs)}), e.g. { maxLagMs: 500 }.`);
  }
  if (preventWrites !== undefined && typeof preventWrites !== 'boolean') {
    throw new PinDbConfigError(`${call}: preventWrites must be true or false (got ${describe(preventWrites)}).`);
  }
  return { sets: [...(sets as string[])], maxLagMs, preventWrites };
}

function describe(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value);
  if (typeof value === 'function') return 'a function';
  try {
    return JSON.stringify(value) ?? String(value);
  } catch {
    return String(value);
  }
}
