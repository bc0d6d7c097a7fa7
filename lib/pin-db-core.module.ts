import type { ServerResponse } from 'node:http';
import { CanActivate, DynamicModule, Global, Inject, Logger, Module, NestModule, OnModuleInit, Provider } from '@nestjs/common';
import { APP_GUARD, APP_INTERCEPTOR, ApplicationConfig, DiscoveryModule, DiscoveryService, HttpAdapterHost, MetadataScanner, Reflector } from '@nestjs/core';
import type { ModuleMetadata } from '@nestjs/common';
import { decoratedSets, hasRoutingDecorators } from './options/decorated-sets.js';
import type { PinDbModuleOptions } from './options/pin-db-module-options.js';
import { assertKnownSets, PINDB_SECRET_ENV, resolvePinDbOptions, ResolvedPinDbOptions } from './options/resolve-options.js';
import { PinDbConfigError } from './errors/pin-db-config.error.js';
import { PIN_DB_MODULE_OPTIONS, PIN_DB_OPTIONS } from './pin-db.constants.js';
import { PinDbHealthMonitor } from './health/pin-db-health.monitor.js';
import { PinDbMetrics } from './metrics/pin-db.metrics.js';
import { requirePromClientIfAsked } from './metrics/prom-client.js';
import { PinDbGuard } from './routing/pin-db.guard.js';
import { PinDbInterceptor } from './routing/pin-db.interceptor.js';
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
  /** Puts back the enhancers of PinDb's that Nest builds the HTTP routes without, each in its place in the app's list. */
  private readonly putBack: (() => void)[] = [];

  constructor(
    private readonly config: ApplicationConfig,
    private readonly adapterHost: HttpAdapterHost,
    private readonly middleware: PinDbMiddleware,
    @Inject(PinDbRouter) private readonly router: PinDbRouter,
    private readonly discovery: DiscoveryService,
    private readonly scanner: MetadataScanner,
    private readonly reflector: Reflector,
  ) {}

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

  configure(): void {
    mountMiddleware(this.adapterHost.httpAdapter, this.middleware);
    const guards = this.config.getGlobalGuards();
    putPinDbGuardFirst(guards);
    if (!this.httpRoutesNeedGuard()) this.putBack.push(setAside(guards, PinDbGuard));
    this.putBack.push(setAside(this.config.getGlobalInterceptors(), PinDbInterceptor));
  }

  /** The HTTP routes are built: resolvers (GraphQL), message and event handlers made from here on get the guard and the interceptor. */
  onModuleInit(): void {
    for (const putBack of this.putBack.splice(0)) putBack();
  }

  /**
   * On an HTTP route the guard applies a controller's @Pin / @UseReplica, and with a pin store it
   * hands the context the framework's request: an app with neither builds its routes without it.
   */
  private httpRoutesNeedGuard(): boolean {
    return this.router.options.tokens.store !== undefined || hasRoutingDecorators(this.discovery, this.scanner, this.reflector);
  }
}

/**
 * Opens each HTTP request's context ahead of every middleware Nest mounts: mounted on the HTTP
 * adapter itself (what `app.use()` does) from this module's `configure()`, which Nest calls on
 * every module before it mounts any module's middleware, rather than through a MiddlewareConsumer.
 * A request then runs none of the layers Nest wraps a module's middleware in (a route path to
 * match, a proxy with its own exception handling, a set of requests already served): a few
 * microseconds a request, about a third of what PinDb adds to a plain GET. It never throws, so it
 * needs no exception layer. On every NestJS version it runs first; an app that also applies
 * PinDbMiddleware itself (as NestJS 10 apps had to) gets a pass that sees the context open and
 * does nothing more.
 */
function mountMiddleware(adapter: HttpAdapterHost['httpAdapter'] | undefined, middleware: PinDbMiddleware): void {
  adapter?.use((request: Parameters<PinDbMiddleware['use']>[0], response: ServerResponse, next: () => void) => middleware.use(request, response, next));
}

/**
 * HTTP routes need no PinDbInterceptor (the middleware, the guard and the response's hold do its
 * work: see PinDbMiddleware), and any interceptor costs each request an rxjs chain in Nest's
 * router, about as much as all of PinDb's own work; nor PinDbGuard where it has nothing to do (see
 * httpRoutesNeedGuard): a chain of guards costs a request a few promises where it is the only
 * guard. Nest builds every route's guard and interceptor chains from the app's lists once, after
 * asking modules for their middleware (configure) and before the modules' onModuleInit: the
 * enhancer leaves its list there and is back in onModuleInit. Global modules (PinDbCoreModule is
 * one) get onModuleInit before every other module, so what is made in those hooks (GraphQL's
 * resolvers) has it; WebSocket gateways are bound before configure, microservices' handlers when
 * they connect or start.
 */
function setAside<T>(enhancers: T[], type: abstract new (...args: never[]) => T): () => void {
  const at = enhancers.findIndex((enhancer) => enhancer instanceof type);
  if (at < 0) return () => undefined;
  const [enhancer] = enhancers.splice(at, 1);
  return () => {
    if (!enhancers.includes(enhancer)) enhancers.splice(Math.min(at, enhancers.length), 0, enhancer);
  };
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
