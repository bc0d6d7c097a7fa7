import { SetMetadata } from '@nestjs/common';
import { PIN_METADATA } from '../pin-db.constants.js';

/**
 * This handler (or every handler of this controller) reads `sets` from their primary and counts as
 * a write for the read-your-writes token. No set named: every set.
 */
export const Pin = (...sets: string[]) => SetMetadata(PIN_METADATA, sets);
