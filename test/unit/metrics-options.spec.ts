import { Registry } from 'prom-client';
import { PinDbConfigError, PinDbModuleOptions } from '../../lib/index.js';
import { resolvePinDbOptions } from '../../lib/options/resolve-options.js';

const valid = (metrics: unknown) => ({ sets: { default: { primary: { host: '127.0.0.1', port: 5432 } } }, metrics }) as PinDbModuleOptions;
const rejects = (metrics: unknown, message: RegExp) => {
  expect(() => resolvePinDbOptions(valid(metrics))).toThrow(PinDbConfigError);
  expect(() => resolvePinDbOptions(valid(metrics))).toThrow(message);
};

describe('the metrics option', () => {
  it('defaults to metrics whenever prom-client is installed, prefixed pindb_, in its default registry', () => {
    expect(resolvePinDbOptions(valid(undefined)).metrics).toEqual({ required: false, prefix: 'pindb_' });
  });

  it('true requires prom-client; false turns metrics off', () => {
    expect(resolvePinDbOptions(valid(true)).metrics).toEqual({ required: true, prefix: 'pindb_' });
    expect(resolvePinDbOptions(valid(false)).metrics).toBe(false);
  });

  it('takes a registry and a prefix, and then requires prom-client', () => {
    const registry = new Registry();
    // Typed as a user writes it: prom-client's Registry fits the option's type.
    const options: PinDbModuleOptions = { sets: { default: { primary: { host: '127.0.0.1' } } }, metrics: { registry, prefix: 'shop_db_' } };
    expect(resolvePinDbOptions(options).metrics).toEqual({ required: true, registry, prefix: 'shop_db_' });
    expect(resolvePinDbOptions(valid({ prefix: '' })).metrics).toEqual({ required: true, registry: undefined, prefix: '' });
  });

  it('rejects what is neither a boolean nor an object', () => rejects('yes', /metrics must be true, false or \{ registry, prefix \} \(got "yes"\)/));
  it('rejects unknown fields', () => rejects({ registery: new Registry() }, /Unknown option metrics\.registery: metrics has registry, prefix/));
  it('rejects a prefix that cannot start a metric name', () =>
    rejects({ prefix: '1-db' }, /metrics\.prefix must start Prometheus metric names.*e\.g\. 'pindb_' \(got "1-db"\)/));
  it('rejects a registry that is not a prom-client Registry', () =>
    rejects({ registry: {} }, /metrics\.registry must be a prom-client Registry \(new Registry\(\)/));
});
