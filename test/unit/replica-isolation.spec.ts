import { PinDbConfigError } from '../../lib/index.js';
import { replicaIsolation } from '../../lib/typeorm/replica-transaction.js';

describe('replicaIsolation (the isolation option of routing.replicaTransaction)', () => {
  it.each([
    [undefined, 'REPEATABLE READ'],
    ['READ UNCOMMITTED', 'READ UNCOMMITTED'],
    ['READ COMMITTED', 'READ COMMITTED'],
    ['REPEATABLE READ', 'REPEATABLE READ'],
    ['SERIALIZABLE', 'SERIALIZABLE'],
  ])('%s → %s', (given, level) => {
    expect(replicaIsolation(given)).toBe(level);
  });

  // It is spliced into START TRANSACTION: only TypeORM's exact strings that PostgreSQL has pass.
  it.each([['repeatable read'], ['SNAPSHOT'], ['REPEATABLE READ; DROP TABLE note'], [' SERIALIZABLE'], [''], [null], [42], [{}]])(
    '%p is a PinDbConfigError listing the levels',
    (given) => {
      expect(() => replicaIsolation(given)).toThrow(PinDbConfigError);
      expect(() => replicaIsolation(given)).toThrow(
        /^routing\.replicaTransaction\(\): isolation must be one of 'READ UNCOMMITTED', 'READ COMMITTED', 'REPEATABLE READ', 'SERIALIZABLE' \(got .*\), e\.g\. \{ isolation: 'REPEATABLE READ' \} \(the default\)\.$/,
      );
    },
  );
});
