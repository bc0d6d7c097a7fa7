import {
  CanActivate,
  DynamicModule,
  Global,
  Logger,
  MiddlewareConsumer,
  Module,
  NestInterceptor,
  NestModule,
  OnModuleInit,
  Provider,
  RequestMethod,
} from '@nestjs/common';
import { APP_GUARD, APP_INTERCEPTOR, ApplicationConfig, DiscoveryModule, DiscoveryService, MetadataScanner, Reflector } from '@nestjs/core';
import type { ModuleMetadata } from '@nestjs/common';
import { decoratedSets } from './options/decorated-sets.js';
import type { PinDbModuleOptions } from './options/pin-db-module-options.js';
import { assertKnownSets, PINDB_SECRET_ENV, resolvePinDbOptions, ResolvedPinDbOptions } from './options/resolve-options.js';
import { PinDbConfigError } from './errors/pin-db-config.error.js';
import { PIN_DB_MODULE_OPTIONS, PIN_DB_OPTIONS } from './pin-db.constants.js';
import { PinDbHealthMonitor } from './health/pin-db-health.monitor.js';
import { PinDbMetrics } from './metrics/pin-db.metrics.js';
import { requirePromClientIfAsked } from './metrics/prom-client.js';
import { PinDbGuard } from './routing/pin-db.guard.js';
import { PinDbInterceptor } from './routing/pin-db.interceptor.js';
import { everyRoutePath } from './routing/every-route.js';
import { PinDbMiddleware } from './routing/pin-db.middleware.js';
import { PinDbRouter } from './routing/pin-db.router.js';
import { RoutingService } from './routing/routing.service.js';

/**
 * The routing core, global so that every module (and the DataSource factories of each set) sees
 * one router and one RoutingService. PinDbModule is its public face.
 */
@Global()
@Module({})
export class PinDbCoreModule implements NestModule, OnModuleInit {
  /** PinDbInterceptor while Nest builds the HTTP routes without it, and its place in the app's interceptor list. */
  private interceptorAside?: { interceptor: NestInterceptor; at: number };

  constructor(private readonly config: ApplicationConfig) {}

  static forRoot(optionsProviders: Provider[], declaredSets: string[], imports: ModuleMetadata['imports'] = []): DynamicModule {
    return {
      module: PinDbCoreModule,
      imports: [DiscoveryModule, ...imports],
      providers: [
        ...optionsProviders,
        {
          provide: PIN_DB_OPTIONS,
          inject: [PIN_DB_MODULE_OPTIONS, DiscoveryService, MetadataScanner, Reflector],
          useFactory: (raw: PinDbModuleOptions, discovery: DiscoveryService, scanner: MetadataScanner, reflector: Reflector) =>
            requirePromClientIfAsked(checkedOptions(raw, declaredSets, decoratedSets(discovery, scanner, reflector))),
        },
        { provide: PinDbRouter, inject: [PIN_DB_OPTIONS], useFactory: (options: ResolvedPinDbOptions) => new PinDbRouter(options) },
        RoutingService,
        PinDbHealthMonitor,
        PinDbMetrics,
        PinDbMiddleware,
        { provide: APP_GUARD, useClass: PinDbGuard },
        { provide: APP_INTERCEPTOR, useClass: PinDbInterceptor },
      ],
      exports: [PIN_DB_OPTIONS, PinDbRouter, RoutingService, PinDbHealthMonitor],
    };
  }

  configure(consumer: MiddlewareConsumer): void {
    consumer.apply(PinDbMiddleware).forRoutes({ path: everyRoutePath(), method: RequestMethod.ALL });
    putPinDbGuardFirst(this.config.getGlobalGuards());
    this.interceptorAside = setInterceptorAside(this.config.getGlobalInterceptors());
  }

  /** The HTTP routes are built: resolvers (GraphQL), message and event handlers made from here on get the interceptor again. */
  onModuleInit(): void {
    const aside = this.interceptorAside;
    if (!aside) return;
    this.interceptorAside = undefined;
    const interceptors = this.config.getGlobalInterceptors();
    if (!interceptors.includes(aside.interceptor)) interceptors.splice(Math.min(aside.at, interceptors.length), 0, aside.interceptor);
  }
}

/**
 * HTTP routes need no PinDbInterceptor (the middleware, the guard and the response's hold do its
 * work: see PinDbMiddleware), and any interceptor costs each request an rxjs chain in Nest's
 * router, about as much as all of PinDb's own work. Nest builds every route's interceptor chain
 * from the app's interceptor list once, after asking modules for their middleware (configure) and
 * before the modules' onModuleInit: the interceptor leaves the list there and is back in
 * onModuleInit. Global modules (PinDbCoreModule is one) get onModuleInit before every other
 * module, so what is made in those hooks (GraphQL's resolvers) has it; WebSocket gateways are
 * bound before configure, microservices' handlers when they connect or start.
 */
function setInterceptorAside(interceptors: NestInterceptor[]): { interceptor: NestInterceptor; at: number } | undefined {
  const at = interceptors.findIndex((interceptor) => interceptor instanceof PinDbInterceptor);
  if (at < 0) return undefined;
  const [interceptor] = interceptors.splice(at, 1);
  return { interceptor, at };
}

/**
 * Nest runs app-wide guards in the order it adds them, the root module's first, so an auth guard
 * provided in AppModule would read before PinDbGuard applied the request's @Pin. By the time Nest
 * asks modules for their middleware (configure) it has added every APP_GUARD, and it builds the
 * routes' guard chains only after: moving PinDbGuard to the front of the app's guard list there
 * puts it first for every route, without changing any of Nest's methods.
 */
function putPinDbGuardFirst(guards: CanActivate[]): void {
  const at = guards.findIndex((guard) => guard instanceof PinDbGuard);
  if (at > 0) guards.unshift(...guards.splice(at, 1));
}

/** Runs before any DataSource connects, so bad options fail the bootstrap with nothing opened. */
function checkedOptions(raw: PinDbModuleOptions, declaredSets: string[], decorated: { set: string; where: string }[]): ResolvedPinDbOptions {
  const options = resolvePinDbOptions(raw);
  const returned = [...options.sets.keys()];
  if (returned.length !== declaredSets.length || returned.some((set) => !declaredSets.includes(set))) {
    throw new PinDbConfigError(
      `PinDbModule.forRootAsync declared the sets [${declaredSets.join(', ')}] but its factory returned [${returned.join(', ')}]: ` +
        `list every set the factory returns in forRootAsync({ sets: [${returned.map((s) => `'${s}'`).join(', ')}], ... }).`,
    );
  }
  for (const { set, where } of decorated) assertKnownSets(options.sets, [set], where);
  if (options.enabled && options.tokens.secretGenerated) {
    new Logger('PinDb').warn(
      `No secret for read-your-writes tokens: using a random one for this process, so tokens die with it and other instances ` +
        `reject them. Set cookie: { secret } or ${PINDB_SECRET_ENV} (required when NODE_ENV=production).`,
    );
  }
  return options;
}
