import { READ_ONLY_FUNCTIONS } from './read-only-functions.js';

/**
 * Built-in functions that make a statement need the primary: they change data, assign a
 * transaction id, write WAL, or take a lock whose whole point is exclusion (an advisory lock taken
 * on a replica excludes nobody on the primary or on the other replicas). Some of these run fine on
 * a replica, which is why the server's refusal alone cannot be the test.
 */
export const PRIMARY_ONLY_FUNCTIONS: ReadonlySet<string> = new Set([
  // advisory locks: session and transaction level, and their unlocks
  'pg_advisory_lock',
  'pg_advisory_lock_shared',
  'pg_try_advisory_lock',
  'pg_try_advisory_lock_shared',
  'pg_advisory_xact_lock',
  'pg_advisory_xact_lock_shared',
  'pg_try_advisory_xact_lock',
  'pg_try_advisory_xact_lock_shared',
  'pg_advisory_unlock',
  'pg_advisory_unlock_shared',
  'pg_advisory_unlock_all',
  // sequences (currval and lastval answer for the nextval of this session, which ran on the primary)
  'nextval',
  'setval',
  'currval',
  'lastval',
  // transaction ids (stable in the catalog, but they assign an xid, which a standby cannot)
  'txid_current',
  'pg_current_xact_id',
  // WAL
  'pg_current_wal_lsn',
  'pg_current_wal_insert_lsn',
  'pg_current_wal_flush_lsn',
  'pg_walfile_name',
  'pg_walfile_name_offset',
  'pg_switch_wal',
  'pg_create_restore_point',
  'pg_logical_emit_message',
  'pg_log_standby_snapshot',
  'pg_backup_start',
  'pg_backup_stop',
  'pg_notify',
  // large objects
  'lo_creat',
  'lo_create',
  'lo_import',
  'lo_unlink',
  'lo_put',
  'lo_from_bytea',
  'lowrite',
  'lo_truncate',
  'lo_truncate64',
  // replication slots and origins
  'pg_create_physical_replication_slot',
  'pg_create_logical_replication_slot',
  'pg_drop_replication_slot',
  'pg_copy_physical_replication_slot',
  'pg_copy_logical_replication_slot',
  'pg_replication_slot_advance',
  'pg_logical_slot_get_changes',
  'pg_logical_slot_get_binary_changes',
  'pg_logical_slot_peek_changes',
  'pg_logical_slot_peek_binary_changes',
  'pg_replication_origin_create',
  'pg_replication_origin_drop',
  'pg_replication_origin_advance',
  'pg_replication_origin_session_setup',
  'pg_replication_origin_session_reset',
  'pg_replication_origin_xact_setup',
  'pg_replication_origin_xact_reset',
  // catalog and index writers
  'pg_import_system_collations',
  'pg_nextoid',
  'pg_extension_config_dump',
  'pg_stop_making_pinned_objects',
  'pg_restore_relation_stats',
  'pg_restore_attribute_stats',
  'pg_clear_relation_stats',
  'pg_clear_attribute_stats',
  'brin_summarize_new_values',
  'brin_summarize_range',
  'brin_desummarize_range',
  'gin_clean_pending_list',
]);

/**
 * Built-in functions that leave state on the connection that outlives the statement and cannot be
 * carried to another connection by replaying SQL text.
 */
export const STICKY_FUNCTIONS: ReadonlySet<string> = new Set([
  'set_config',
  'setseed',
  'pg_advisory_lock',
  'pg_advisory_lock_shared',
  'pg_try_advisory_lock',
  'pg_try_advisory_lock_shared',
  'pg_advisory_unlock',
  'pg_advisory_unlock_shared',
  'pg_advisory_unlock_all',
  'pg_replication_origin_session_setup',
  'pg_replication_origin_session_reset',
]);

/**
 * Volatile built-ins that nevertheless write nothing and run on a standby (the catalog's stable
 * and immutable ones are in READ_ONLY_FUNCTIONS). Volatile only because their result changes.
 */
export const VOLATILE_READ_ONLY_FUNCTIONS: ReadonlySet<string> = new Set([
  'random',
  'random_normal',
  'setseed',
  'set_config',
  'array_sample',
  'array_shuffle',
  'clock_timestamp',
  'timeofday',
  'current_query',
  'gen_random_uuid',
  'uuidv4',
  'uuidv7',
  'pg_sleep',
  'pg_sleep_for',
  'pg_sleep_until',
  'pg_is_in_recovery',
  'pg_last_wal_receive_lsn',
  'pg_last_wal_replay_lsn',
  'pg_last_xact_replay_timestamp',
  'pg_is_wal_replay_paused',
  'pg_get_wal_replay_pause_state',
  'pg_relation_size',
  'pg_table_size',
  'pg_indexes_size',
  'pg_total_relation_size',
  'pg_database_size',
  'pg_tablespace_size',
  'pg_blocking_pids',
  'pg_safe_snapshot_blocking_pids',
  'pg_lock_status',
  'pg_notification_queue_usage',
  'pg_xact_commit_timestamp',
  'pg_xact_commit_timestamp_origin',
  'pg_last_committed_xact',
  'pg_xact_status',
  'txid_status',
  'pg_partition_tree',
  'pg_partition_ancestors',
  'pg_jit_available',
  'pg_sequence_last_value',
  'lo_get',
  'loread',
  'pg_control_checkpoint',
  'pg_control_init',
  'pg_control_recovery',
  'pg_control_system',
]);

/** What a call does, as bits. */
export const CALL_WRITES = 1;
export const CALL_MAY_WRITE = 2;
export const CALL_STICKY = 4;

/**
 * The effect of calling `name` (lower-cased unless it was quoted), in `schema` when qualified.
 * A function outside pg_catalog is the user's: it may do anything.
 */
export function callEffect(name: string, schema: string | undefined): number {
  const builtin = schema === undefined || schema === 'pg_catalog';
  let effect = 0;
  if (PRIMARY_ONLY_FUNCTIONS.has(name) || name.startsWith('binary_upgrade_')) effect |= CALL_WRITES;
  if (builtin && STICKY_FUNCTIONS.has(name)) effect |= CALL_STICKY;
  if (effect !== 0) return effect;
  if (builtin && (READ_ONLY_FUNCTIONS.has(name) || VOLATILE_READ_ONLY_FUNCTIONS.has(name))) return 0;
  return CALL_MAY_WRITE;
}
