/** Injection token of the validated, resolved options. */
export const PIN_DB_OPTIONS = Symbol('PIN_DB_OPTIONS');
/** Injection token of the options as the user gave them (forRootAsync's factory result). */
export const PIN_DB_MODULE_OPTIONS = Symbol('PIN_DB_MODULE_OPTIONS');

export const PIN_METADATA = 'pindb:pin';
export const USE_REPLICA_METADATA = 'pindb:use-replica';
/** @UseReplica's options (maxLagMs, preventWrites), beside its sets. */
export const USE_REPLICA_OPTIONS_METADATA = 'pindb:use-replica-options';

/** The set whose DataSource is TypeORM's default one. */
export const DEFAULT_SET = 'default';
