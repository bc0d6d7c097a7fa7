import type { DiscoveryService, MetadataScanner, Reflector } from '@nestjs/core';
import { PIN_METADATA, USE_REPLICA_METADATA } from '../pin-db.constants.js';

/** Every set named by @Pin / @UseReplica on a controller or its handlers, with where it was named. */
export function decoratedSets(discovery: DiscoveryService, scanner: MetadataScanner, reflector: Reflector): { set: string; where: string }[] {
  const found: { set: string; where: string }[] = [];
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
        for (const set of reflector.get<string[] | undefined>(key, target as never) ?? []) found.push({ set, where: `${decorator} on ${where}` });
      }
    }
  }
  return found;
}
