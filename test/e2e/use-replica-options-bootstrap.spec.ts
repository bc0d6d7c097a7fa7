import { Controller, Get } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { Test } from '@nestjs/testing';
import { PinDbConfigError, PinDbModule, PinDbModuleOptions, UseReplica, type UseReplicaOptions } from '../../lib/index.js';
import { USE_REPLICA_METADATA, USE_REPLICA_OPTIONS_METADATA } from '../../lib/pin-db.constants.js';

/** Nothing listens here: a check that let bootstrap reach the network would fail differently. */
const unreachable = { sets: { default: { primary: { host: '127.0.0.1', port: 1 }, replicas: [{ port: 2 }] } }, typeorm: { retryAttempts: 0 } };

@Controller('reports')
class ReportsController {
  @Get()
  @UseReplica({ sets: ['reprots'], maxLagMs: 500 })
  read() {
    return 1;
  }
}

@Controller('both-forms')
@UseReplica({ maxLagMs: 250, preventWrites: true })
class BothFormsController {
  @Get('named')
  @UseReplica('default')
  named() {
    return 1;
  }
}

describe('@UseReplica(options): checked where it is applied, its sets at bootstrap', () => {
  it('keeps the sets where the bootstrap check reads them, and the options beside them, on a handler and a controller', () => {
    const reflector = new Reflector();
    expect(reflector.get(USE_REPLICA_METADATA, BothFormsController)).toEqual([]);
    expect(reflector.get(USE_REPLICA_OPTIONS_METADATA, BothFormsController)).toEqual({ maxLagMs: 250, preventWrites: true });
    // The ...sets form keeps working, with no options.
    expect(reflector.get(USE_REPLICA_METADATA, BothFormsController.prototype.named)).toEqual(['default']);
    expect(reflector.get(USE_REPLICA_OPTIONS_METADATA, BothFormsController.prototype.named)).toEqual({ maxLagMs: undefined, preventWrites: undefined });
  });

  it.each<[string, unknown, RegExp]>([
    ['a negative maxLagMs', { maxLagMs: -1 }, /^@UseReplica\(\.\.\.\): maxLagMs must be a number of milliseconds ≥ 0 \(got -1\)/],
    ['a preventWrites that is not a boolean', { preventWrites: 1 }, /^@UseReplica\(\.\.\.\): preventWrites must be true or false \(got 1\)/],
    ['an unknown option', { maxLagSeconds: 1 }, /^@UseReplica\(\.\.\.\): unknown option "maxLagSeconds"; the options are sets, maxLagMs, preventWrites/],
    ['sets that are not a list', { sets: 'default' }, /^@UseReplica\(\.\.\.\): sets must be a list of set names/],
  ])('%s throws PinDbConfigError as the class is defined', (_what, options, message) => {
    const define = () => {
      @UseReplica(options as UseReplicaOptions)
      class Decorated {}
      return Decorated;
    };
    expect(define).toThrow(PinDbConfigError);
    expect(define).toThrow(message);
  });

  it('a set name in the options that PinDbModule does not define fails the bootstrap, naming where', async () => {
    let error: unknown;
    try {
      const moduleRef = await Test.createTestingModule({
        imports: [PinDbModule.forRoot(unreachable as PinDbModuleOptions)],
        controllers: [ReportsController],
      }).compile();
      await moduleRef.close();
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(PinDbConfigError);
    expect((error as Error).message).toMatch(
      /@UseReplica on ReportsController\.read names database set "reprots", which PinDbModule does not define: the sets are default/,
    );
  });
});
