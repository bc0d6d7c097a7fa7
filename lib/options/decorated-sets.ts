import type { DiscoveryService, MetadataScanner, Reflector } from '@nestjs/core';
import { PIN_METADATA, USE_REPLICA_METADATA } from '../pin-db.constants.js';

/** One @Pin / @UseReplica on a controller or a handler of one: the sets it names (none: every set). */
interface RoutingDecorator {
  sets: string[];
  where: string;
}

/** Every @Pin / @UseReplica on the app's controllers and their handlers, in order. */
function* routingDecorators(discovery: DiscoveryService, scanner: MetadataScanner, reflector: Reflector): Generator<RoutingDecorator> {
  for (const wrapper of discovery.getControllers()) {
    const controller = wrapper.metatype as (new (...args: unknown[]) => unknown) | undefined;
    if (!controller?.prototype) continue;
    const targets = [
      { target: controller as object, where: controller.name },
      ...scanner.getAllMethodNames(controller.prototype).map((method) => ({
        target: controller.prototype[method] as object,
        where: `${controller.name}.${method}`,
      })),
    ];
    for (const { target, where } of targets) {
      for (const [key, decorator] of [
        [PIN_METADATA, '@Pin'],
        [USE_REPLICA_METADATA, '@UseReplica'],
      ]) {
        const sets = reflector.get<string[] | undefined>(key, target as never);
        if (sets) yield { sets, where: `${decorator} on ${where}` };
      }
    }
  }
}

/** Every set named by @Pin / @UseReplica on a controller or its handlers, with where it was named. */
export function decoratedSets(discovery: DiscoveryService, scanner: MetadataScanner, reflector: Reflector): { set: string; where: string }[] {
  const found: { set: string; where: string }[] = [];
  for (const { sets, where } of routingDecorators(discovery, scanner, reflector)) for (const set of sets) found.push({ set, where });
  return found;
}

/** Whether any controller or handler of the app has @Pin or @UseReplica. */
export function hasRoutingDecorators(discovery: DiscoveryService, scanner: MetadataScanner, reflector: Reflector): boolean {
  return !routingDecorators(discovery, scanner, reflector).next().done;
}
