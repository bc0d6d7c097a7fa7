import { promises as dns, type LookupAddress } from 'node:dns';
import { Logger } from '@nestjs/common';
import type { Pool, PoolConfig } from 'pg';
import { errorText } from '../errors/error-text.js';
import { PinDbConfigError } from '../errors/pin-db-config.error.js';
import { ThrottledWarning } from '../logging/throttled-warning.js';
import type { ResolvedDiscovery } from '../options/discover-options.js';
import type { ReplicaServerOptions, ServerOptions } from '../options/pin-db-module-options.js';
import type { ResolvedSet } from '../options/resolve-options.js';
import { checkServerFields, mergeServerOptions, type ReplicaPlacement, replicaPlacement, serverIdentity, serverLabel } from '../options/server-options.js';
import type { SetRouter } from '../routing/set-router.js';
import { createReplicaPool } from '../typeorm/server-pools.js';
import { ReplicaHost } from './replica-host.js';

/** A replica a discovery found, merged over the primary's options and checked as a configured one is. */
export interface DiscoveredServer {
  /** Host, port and database (serverIdentity): what tells two servers apart from one run to the next. */
  identity: string;
  /** host:port */
  label: string;
  options: ServerOptions;
  placement: ReplicaPlacement;
}

/** What changes when a discovery's list replaces the last one. */
export interface ReplicaListDiff<T, W> {
  /** Listed now and not before, in the list's order. */
  added: W[];
  /** Listed before and now: the same objects, in their old order. */
  kept: T[];
  /** Listed before, not now. */
  removed: T[];
}

/**
 * The change from the servers discovered so far (`current`, by identity) to a discovery's list
 * (`wanted`). A server listed twice counts once (the first); one of `excluded` (the primary, the
 * configured replicas) is not discovered, since reads would count it twice.
 */
export function diffReplicas<T, W extends { identity: string }>(
  current: ReadonlyMap<string, T>,
  wanted: readonly W[],
  excluded: ReadonlySet<string> = new Set(),
): ReplicaListDiff<T, W> {
  const listed = new Set<string>();
  const added: W[] = [];
  for (const server of wanted) {
    if (excluded.has(server.identity) || listed.has(server.identity)) continue;
    listed.add(server.identity);
    if (!current.has(server.identity)) added.push(server);
  }
  const kept: T[] = [];
  const removed: T[] = [];
  for (const [identity, host] of current) (listed.has(identity) ? kept : removed).push(host);
  return { added, kept, removed };
}

/**
 * The replicas of a name's addresses. A name with both A and AAAA records for its servers would
 * list each server twice, once per family (localhost: 127.0.0.1 and ::1), so one family is used:
 * IPv4 when the name has any IPv4 address, else IPv6. An address listed twice counts once.
 */
export function dnsReplicas(addresses: readonly LookupAddress[], port?: number): ReplicaServerOptions[] {
  const family = addresses.some((address) => address.family === 4) ? 4 : 6;
  const hosts = [...new Set(addresses.filter((address) => address.family === family).map((address) => address.address))];
  return hosts.map((host) => (port === undefined ? { host } : { host, port }));
}

/** Resolves a name as pg's connect does (getaddrinfo: /etc/hosts and the system's resolver). */
export type LookupAll = (name: string) => Promise<LookupAddress[]>;

const systemLookup: LookupAll = (name) => dns.lookup(name, { all: true });

/**
 * One discovery's list: the name's addresses, or what the function returned, each merged over the
 * primary's options and checked as `sets.<name>.replicas` are at bootstrap. Anything but an array
 * of servers is an error: a failed discovery keeps the last list, rather than dropping every
 * replica over a bug.
 */
export async function discoverServers(set: ResolvedSet, discover: ResolvedDiscovery, lookup: LookupAll = systemLookup): Promise<DiscoveredServer[]> {
  const where = `sets.${set.name}.discover`;
  let listed: unknown;
  if (typeof discover === 'function') {
    listed = await discover();
    if (!Array.isArray(listed)) {
      throw new PinDbConfigError(`${where}() must resolve to an array of servers such as [{ host: 'replica-1' }] (got ${typeOf(listed)}).`);
    }
  } else {
    const addresses = await lookup(discover.dns);
    listed = dnsReplicas(addresses, discover.port);
  }
  return (listed as unknown[]).map((server, i) => {
    const at = `${where}()[${i}]`;
    if (typeof server !== 'object' || server === null || Array.isArray(server)) {
      throw new PinDbConfigError(`${at} is not a server (got ${typeOf(server)}): give { host, port? }, merged over the primary's options, or { url }.`);
    }
    checkServerFields(server, at, 'replica');
    const options = mergeServerOptions(set.primary.options, server as ReplicaServerOptions);
    return { identity: serverIdentity(options), label: serverLabel(options), options, placement: replicaPlacement(server as ReplicaServerOptions) };
  });
}

/** How long one discovery may take; a later answer is dropped, and the last list kept. */
export const DISCOVERY_TIMEOUT_MS = 5000;
/** After a failed discovery the next one comes sooner than the interval, though no sooner than this. */
export const RETRY_AFTER_FAILURE_MS = 5000;
/** A dropped replica's reads have this long to end before their connections are cut (they are retried elsewhere). */
export const DRAIN_TIMEOUT_MS = 30_000;

export interface ReplicaDiscoveryOptions {
  lookup?: LookupAll;
  timeoutMs?: number;
  drainTimeoutMs?: number;
}

/**
 * `sets.<name>.discover` at runtime: the set's replicas, found again every interval (the DNS
 * form's `intervalMs`, the function form's `health.intervalMs`; unref'd timers), beside the
 * configured ones. A replica that appears gets a pool like a configured replica's and joins the
 * set's host list, readable once a health check has seen it in recovery. One that disappears
 * leaves the list at once (no new read goes to it), its reads in flight end, then its pool closes
 * (pool.end()), and the health monitor stops checking it. A discovery that fails keeps the last
 * list, with a throttled warning.
 */
export class ReplicaDiscovery {
  private readonly logger = new Logger('PinDb');
  private readonly warning = new ThrottledWarning(this.logger);
  /** The replicas discovered and still listed, by identity. */
  private readonly discovered = new Map<string, ReplicaHost>();
  /** Pools of dropped replicas, closing once their reads end. */
  private readonly drains = new Set<Promise<void>>();
  private nextIndex: number;
  private timer?: NodeJS.Timeout;
  private running?: Promise<boolean>;
  private stopped = false;
  private readonly lookup?: LookupAll;
  private readonly timeoutMs: number;
  private readonly drainTimeoutMs: number;

  /** The set's discovery, or undefined when it has none (or routing is off). */
  static of(router: SetRouter, options?: ReplicaDiscoveryOptions): ReplicaDiscovery | undefined {
    const discover = router.set.discover;
    return discover && router.options.enabled ? new ReplicaDiscovery(router, discover, options) : undefined;
  }

  constructor(
    private readonly router: SetRouter,
    private readonly discover: ResolvedDiscovery,
    { lookup, timeoutMs = DISCOVERY_TIMEOUT_MS, drainTimeoutMs = DRAIN_TIMEOUT_MS }: ReplicaDiscoveryOptions = {},
  ) {
    this.lookup = lookup;
    this.timeoutMs = timeoutMs;
    this.drainTimeoutMs = drainTimeoutMs;
    // Past the configured replicas' indexes, so that an index still names one host.
    this.nextIndex = router.configuredHosts.length;
  }

  /** The interval between two discoveries. */
  get intervalMs(): number {
    return typeof this.discover === 'function' ? this.router.options.health.intervalMs : this.discover.intervalMs;
  }

  /** The first discovery (bounded by the timeout; a failure is logged, not thrown), then one every interval until stop(). */
  async start(): Promise<void> {
    const ok = await this.runOnce();
    this.schedule(ok);
  }

  /** Stops the loop, then drops every discovered replica (their reads end, their pools close). */
  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    await this.running;
    this.apply([]);
    await Promise.all(this.drains);
  }

  /** One discovery, applied to the set's host list. Resolves false when it failed (and the last list stays). */
  runOnce(): Promise<boolean> {
    this.running ??= this.discoverAndApply().finally(() => (this.running = undefined));
    return this.running;
  }

  private async discoverAndApply(): Promise<boolean> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`no answer within ${this.timeoutMs} ms`)), this.timeoutMs);
      timer.unref();
    });
    try {
      const servers = await Promise.race([discoverServers(this.router.set, this.discover, this.lookup), timeout]);
      if (!this.stopped) this.apply(servers);
      return true;
    } catch (error) {
      const what = typeof this.discover === 'function' ? 'the discover function' : `resolving ${this.discover.dns}`;
      const kept = this.discovered.size === 0 ? 'no replica discovered yet' : `keeping the ${this.discovered.size} discovered before`;
      this.warning.warn('discover', `${this.router.name}: replica discovery failed (${what}: ${errorText(error)}); ${kept}.`);
      return false;
    } finally {
      clearTimeout(timer);
    }
  }

  private schedule(lastOk: boolean): void {
    if (this.stopped) return;
    const interval = this.intervalMs;
    const base = lastOk ? interval : Math.min(interval, RETRY_AFTER_FAILURE_MS);
    // Jittered ±20 %, as the health checks: the instances of an app do not ask in step.
    this.timer = setTimeout(() => void this.runOnce().then((ok) => this.schedule(ok)), base * (0.8 + Math.random() * 0.4));
    this.timer.unref();
  }

  /** Makes `servers` the discovered replicas: new ones get pools, the list is swapped, dropped ones drain. */
  private apply(servers: DiscoveredServer[]): void {
    const { set, configuredHosts } = this.router;
    const excluded = new Set([serverIdentity(set.primary.options), ...set.replicas.map((replica) => serverIdentity(replica.options))]);
    const diff = diffReplicas(this.discovered, servers, excluded);
    const { added } = diff;
    // A discovered replica the set's writes followed after a promotion is its primary now: a list
    // of replicas no longer names it, and its pool must stay (stop() closes it at shutdown).
    const removed = this.stopped ? diff.removed : diff.removed.filter((host) => host !== this.router.primary.promoted);
    if (added.length === 0 && removed.length === 0) return;
    for (const host of removed) {
      for (const [identity, candidate] of this.discovered) if (candidate === host) this.discovered.delete(identity);
      host.retire();
    }
    for (const server of added) this.discovered.set(server.identity, this.connect(server));
    this.router.replaceHosts([...configuredHosts, ...this.discovered.values()]);
    for (const host of removed) this.drain(host);
    const names = (hosts: { label: string }[]) => hosts.map((host) => host.label).join(', ');
    this.logger.log(
      `${this.router.name}: replica discovery ${[added.length > 0 && `added ${names(added)}`, removed.length > 0 && `dropped ${names(removed)}`].filter(Boolean).join(' and ')}; ` +
        `the set has ${this.router.hosts.size} replica${this.router.hosts.size === 1 ? '' : 's'}.`,
    );
  }

  /** A host for a discovered replica, with its pool (no connection yet): it serves reads once a health check passes. */
  private connect(server: DiscoveredServer): ReplicaHost {
    const driver = this.router.attachedDriver!;
    const host = new ReplicaHost(this.nextIndex++, server.label, this.router.options.health, server.placement);
    createReplicaPool(this.router, driver.postgres.Pool as new (config: PoolConfig) => Pool, driver.options, server.options, host);
    return host;
  }

  /**
   * Closes a dropped replica's pool once the reads on it have ended (pool.end() waits for its
   * checked-out connections); reads still on it after drainTimeoutMs have their connections cut,
   * and are retried elsewhere as after a failed health check.
   */
  private drain(host: ReplicaHost): void {
    const pool = host.connectionPool;
    if (!pool) return;
    const cut = setTimeout(() => host.connections.cutAll(), this.drainTimeoutMs);
    cut.unref();
    const drain: Promise<void> = pool
      .end()
      .catch((error) => this.logger.warn(`${this.router.name}: closing the pool of dropped replica ${host.label} failed: ${errorText(error)}`))
      .finally(() => {
        clearTimeout(cut);
        this.drains.delete(drain);
      });
    this.drains.add(drain);
  }
}

function typeOf(value: unknown): string {
  if (Array.isArray(value)) return 'an array';
  if (value === null) return 'null';
  return typeof value === 'object' ? 'an object' : `${typeof value} ${String(value)}`;
}
