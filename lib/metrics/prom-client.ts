import type * as PromClient from 'prom-client';
import { PinDbConfigError } from '../errors/pin-db-config.error.js';
import type { ResolvedPinDbOptions } from '../options/resolve-options.js';

export type PromClientModule = typeof PromClient;

let loading: Promise<PromClientModule | undefined> | undefined;

/**
 * prom-client if it is installed, else undefined. Imported on first call only, and dynamically:
 * it is an optional peer dependency, so nothing imports it statically.
 */
export function loadPromClient(): Promise<PromClientModule | undefined> {
  loading ??= import('prom-client').then(
    // prom-client is CommonJS: its exports are the default export, and usually named ones too.
    (module) => ((module as unknown as { default?: PromClientModule }).default ?? module) as PromClientModule,
    (error: unknown) => {
      if (isPromClientMissing(error)) return undefined;
      throw error;
    },
  );
  return loading;
}

/**
 * Fails the bootstrap, before any connection opens, when the options ask for metrics but
 * prom-client cannot be loaded. Part of the resolved options' provider, so everything waits for it.
 */
export async function requirePromClientIfAsked(options: ResolvedPinDbOptions): Promise<ResolvedPinDbOptions> {
  if (options.metrics && options.metrics.required && !(await loadPromClient())) {
    throw new PinDbConfigError(
      'PinDbModule option metrics asks for Prometheus metrics, but prom-client is not installed: npm install prom-client ' +
        '(or leave metrics out: they are then on whenever prom-client is installed, and off otherwise).',
    );
  }
  return options;
}

/** prom-client itself is not found (not one of its own dependencies: that is a broken install, reported as is). */
function isPromClientMissing(error: unknown): boolean {
  const { code, message } = (error ?? {}) as { code?: string; message?: string };
  return (code === 'ERR_MODULE_NOT_FOUND' || code === 'MODULE_NOT_FOUND') && /Cannot find (package|module) ['"]prom-client['"]/.test(message ?? '');
}
