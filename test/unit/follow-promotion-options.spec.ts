import { PinDbConfigError, PinDbModuleOptions } from '../../lib/index.js';
import { resolvePinDbOptions } from '../../lib/options/resolve-options.js';

const withFollow = (followPromotion: unknown) =>
  ({ sets: { default: { primary: { host: '127.0.0.1', port: 5432 }, followPromotion }, other: { primary: { host: '127.0.0.2' } } } }) as PinDbModuleOptions;

describe('the sets.<name>.followPromotion option', () => {
  it('defaults to false, per set, and takes true or false', () => {
    expect(resolvePinDbOptions(withFollow(undefined)).sets.get('default')!.followPromotion).toBe(false);
    expect(resolvePinDbOptions(withFollow(true)).sets.get('default')!.followPromotion).toBe(true);
    expect(resolvePinDbOptions(withFollow(true)).sets.get('other')!.followPromotion).toBe(false);
    expect(resolvePinDbOptions(withFollow(false)).sets.get('default')!.followPromotion).toBe(false);
  });

  it.each([['true'], [1], [null], [{}]])('rejects %p with a PinDbConfigError that names the option and what to give', (value) => {
    expect(() => resolvePinDbOptions(withFollow(value))).toThrow(PinDbConfigError);
    expect(() => resolvePinDbOptions(withFollow(value))).toThrow(/sets\.default\.followPromotion must be true or false \(got .*\)/);
  });
});
