import { PinDbConfigError, PinDbModuleOptions } from '../../lib/index.js';
import { resolvePinDbOptions } from '../../lib/options/resolve-options.js';

/** Asserts that PinDbModule's bootstrap check refuses `options` with a PinDbConfigError whose message matches. */
export function rejects(options: unknown, message: RegExp): void {
  let error: unknown;
  try {
    resolvePinDbOptions(options as PinDbModuleOptions);
  } catch (e) {
    error = e;
  }
  expect(error).toBeInstanceOf(PinDbConfigError);
  expect((error as Error).message).toMatch(message);
}
