import { SetMetadata } from '@nestjs/common';
import { PinDbConfigError } from '../errors/pin-db-config.error.js';
import { JOB_CONSISTENCY_MODES, JobConsistencyMode } from './job-consistency.js';

export const JOB_CONSISTENCY_METADATA = 'pindb:job-consistency';

/**
 * How the jobs of this `@Processor` class read: 'sticky' (the default), 'always' or 'delayed'.
 * Metadata only: PinDbBullModule reads it when the processor's worker takes its first job.
 */
export function JobConsistency(mode: JobConsistencyMode): ClassDecorator {
  if (!JOB_CONSISTENCY_MODES.includes(mode)) {
    throw new PinDbConfigError(`@JobConsistency(${JSON.stringify(mode)}): the modes are ${JOB_CONSISTENCY_MODES.map((m) => `'${m}'`).join(', ')}.`);
  }
  return SetMetadata(JOB_CONSISTENCY_METADATA, mode);
}
