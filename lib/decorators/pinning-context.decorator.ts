import { PinDbContext } from '../routing/pin-db.context.js';

export interface PinningContextOptions {
  /** Picks the read-your-writes token (from routing.token()) out of the method's arguments, e.g. (job) => job.data.pindbToken. */
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- the decorated method's own arguments
  token?: (...args: any[]) => string | undefined;
}

/**
 * Runs the method in a fresh pinning context, for work that is not an HTTP request: a cron job, a
 * queue processor, a message handler. The context ends when the method settles. With `token`,
 * the job's reads see the writes of the request that enqueued it.
 *
 * Unlike @Pin and @UseReplica this wraps the method, since no Nest enhancer runs around a cron
 * job; the metadata other decorators left on the method is kept on the wrapper.
 */
export function PinningContext(options: PinningContextOptions = {}): MethodDecorator {
  return (_target, _key, descriptor: PropertyDescriptor) => {
    const original = descriptor.value as (...args: unknown[]) => unknown;
    if (typeof original !== 'function') throw new TypeError('@PinningContext() decorates methods only.');
    const wrapped = function (this: unknown, ...args: unknown[]) {
      return PinDbContext.runWithToken(options.token?.(...args), () => original.apply(this, args));
    };
    for (const key of Reflect.getOwnMetadataKeys(original)) {
      Reflect.defineMetadata(key, Reflect.getOwnMetadata(key, original), wrapped);
    }
    Object.defineProperty(wrapped, 'name', { value: original.name });
    descriptor.value = wrapped;
    return descriptor;
  };
}
