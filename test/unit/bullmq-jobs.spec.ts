import { PinDbConfigError } from '../../lib/errors/pin-db-config.error.js';
import { JobConsistency } from '../../lib/bullmq/job-consistency.decorator.js';
import { delaysOf, jobStart, type JobAttempts, type JobStart, type JobStartInputs } from '../../lib/bullmq/job-consistency.js';
import { flowWithToken, PINDB_TOKEN_OPTION, pinDbTokenOf, withToken } from '../../lib/bullmq/job-token.js';
import { resolvePinDbBullOptions } from '../../lib/bullmq/pin-db-bull.options.js';

/** A 'delayed' job with a token, put back never, allowed 3 times, not asked about the replicas yet. */
const DELAYED: JobStartInputs = { consistency: 'delayed', hasToken: true, delays: 0, maxDelays: 3 };

describe('jobStart: how a job starts', () => {
  it.each<{ name: string; inputs: Partial<JobStartInputs>; start: JobStart }>([
    { name: "'always': on the primary", inputs: { consistency: 'always' }, start: 'primary' },
    { name: "'always' without a token: on the primary still", inputs: { consistency: 'always', hasToken: false }, start: 'primary' },
    { name: "'sticky': with its token", inputs: { consistency: 'sticky' }, start: 'token' },
    { name: "'sticky' without a token: in a fresh context", inputs: { consistency: 'sticky', hasToken: false }, start: 'token' },
    { name: "'sticky' never asks, even when replicas lag", inputs: { consistency: 'sticky', waitsForReplay: true }, start: 'token' },
    { name: "'delayed': asks first", inputs: {}, start: 'ask' },
    { name: "'delayed', the replicas have it: with its token", inputs: { waitsForReplay: false }, start: 'token' },
    { name: "'delayed', no replica has it: put back", inputs: { waitsForReplay: true }, start: 'delay' },
    { name: "'delayed', put back twice of 3, no replica has it: put back", inputs: { delays: 2, waitsForReplay: true }, start: 'delay' },
    { name: "'delayed', put back 3 times of 3: with its token, without asking", inputs: { delays: 3 }, start: 'token' },
    { name: "'delayed', put back 3 times of 3, no replica has it: with its token (the primary)", inputs: { delays: 3, waitsForReplay: true }, start: 'token' },
    { name: "'delayed', maxDelays 0: never put back", inputs: { maxDelays: 0, waitsForReplay: true }, start: 'token' },
    { name: "'delayed' without a token: nothing to wait for", inputs: { hasToken: false }, start: 'token' },
  ])('$name', ({ inputs, start }) => {
    expect(jobStart({ ...DELAYED, ...inputs })).toBe(start);
  });
});

describe('delaysOf: times a job was put back, from the attempts BullMQ counts', () => {
  it.each<{ name: string; attempts: JobAttempts; delays: number }>([
    { name: 'its first start', attempts: { attemptsStarted: 1, attemptsMade: 0, stalledCounter: 0 }, delays: 0 },
    { name: 'put back twice, starting again', attempts: { attemptsStarted: 3, attemptsMade: 0, stalledCounter: 0 }, delays: 2 },
    { name: 'a retry after a failure is not a delay', attempts: { attemptsStarted: 2, attemptsMade: 1, stalledCounter: 0 }, delays: 0 },
    { name: 'a restart after a stall is not a delay', attempts: { attemptsStarted: 2, attemptsMade: 0, stalledCounter: 1 }, delays: 0 },
    { name: 'put back once, failed once, stalled once', attempts: { attemptsStarted: 4, attemptsMade: 1, stalledCounter: 1 }, delays: 1 },
    { name: 'a job without the counts (an older BullMQ): 0', attempts: { attemptsMade: 0 }, delays: 0 },
    { name: 'no stall count: none', attempts: { attemptsStarted: 2, attemptsMade: 0 }, delays: 1 },
    { name: 'never negative', attempts: { attemptsStarted: 0, attemptsMade: 2 }, delays: 0 },
  ])('$name: $delays', ({ attempts, delays }) => {
    expect(delaysOf(attempts)).toBe(delays);
  });
});

describe('the token in job options', () => {
  it.each<{ name: string; opts: object | undefined; token: string | undefined; result: object | undefined }>([
    { name: 'no options: options with the token', opts: undefined, token: 'v1.a', result: { [PINDB_TOKEN_OPTION]: 'v1.a' } },
    {
      name: "the user's options are kept",
      opts: { attempts: 3, jobId: 'x' },
      token: 'v1.a',
      result: { attempts: 3, jobId: 'x', [PINDB_TOKEN_OPTION]: 'v1.a' },
    },
    { name: 'no token: the options as they were', opts: { attempts: 3 }, token: undefined, result: { attempts: 3 } },
    { name: 'no token, no options: none', opts: undefined, token: undefined, result: undefined },
    { name: 'a token handed on by hand wins', opts: { [PINDB_TOKEN_OPTION]: 'v1.mine' }, token: 'v1.a', result: { [PINDB_TOKEN_OPTION]: 'v1.mine' } },
  ])('$name', ({ opts, token, result }) => {
    expect(withToken(opts, token)).toEqual(result);
  });

  it('does not change the options it was given', () => {
    const opts = { attempts: 3 };
    withToken(opts, 'v1.a');
    expect(opts).toEqual({ attempts: 3 });
  });

  it.each<{ name: string; job: { opts?: object }; token: string | undefined }>([
    { name: 'a token', job: { opts: { [PINDB_TOKEN_OPTION]: 'v1.a' } }, token: 'v1.a' },
    { name: 'no options', job: {}, token: undefined },
    { name: 'options without a token', job: { opts: { attempts: 1 } }, token: undefined },
    { name: 'an empty string', job: { opts: { [PINDB_TOKEN_OPTION]: '' } }, token: undefined },
    { name: 'not a string', job: { opts: { [PINDB_TOKEN_OPTION]: 42 } }, token: undefined },
  ])('pinDbTokenOf, $name: $token', ({ job, token }) => {
    expect(pinDbTokenOf(job)).toBe(token);
  });

  it('flowWithToken puts the token in every job of the tree, to any depth, and keeps the rest', () => {
    const flow = {
      name: 'parent',
      queueName: 'q',
      data: { a: 1 },
      opts: { priority: 2 },
      children: [
        { name: 'child', queueName: 'q', data: { b: 2 }, children: [{ name: 'grandchild', queueName: 'r' }] },
        { name: 'child', queueName: 'q', opts: { [PINDB_TOKEN_OPTION]: 'v1.mine' } },
      ],
    };
    expect(flowWithToken(flow, 'v1.a')).toEqual({
      name: 'parent',
      queueName: 'q',
      data: { a: 1 },
      opts: { priority: 2, [PINDB_TOKEN_OPTION]: 'v1.a' },
      children: [
        {
          name: 'child',
          queueName: 'q',
          data: { b: 2 },
          opts: { [PINDB_TOKEN_OPTION]: 'v1.a' },
          children: [{ name: 'grandchild', queueName: 'r', opts: { [PINDB_TOKEN_OPTION]: 'v1.a' } }],
        },
        { name: 'child', queueName: 'q', opts: { [PINDB_TOKEN_OPTION]: 'v1.mine' } },
      ],
    });
    expect(flow.opts).toEqual({ priority: 2 });
    expect(flowWithToken(flow, undefined)).toBe(flow);
  });
});

describe('PinDbBullModule options', () => {
  it('defaults', () => {
    expect(resolvePinDbBullOptions()).toEqual({ delayMs: 1000, maxDelays: 3 });
    expect(resolvePinDbBullOptions({ delayMs: 250, maxDelays: undefined })).toEqual({ delayMs: 250, maxDelays: 3 });
  });

  it.each([
    ['an unknown key', { delay: 5 }, /Unknown PinDbBullModule option delay: it has delayMs, maxDelays/],
    ['a delayMs of 0', { delayMs: 0 }, /delayMs must be a whole number of milliseconds ≥ 1/],
    ['a fractional delayMs', { delayMs: 1.5 }, /delayMs must be a whole number/],
    ['a negative maxDelays', { maxDelays: -1 }, /maxDelays must be a whole number ≥ 0/],
    ['a maxDelays that is a string', { maxDelays: '3' }, /maxDelays must be a whole number ≥ 0, e\.g\. 3 \(got "3"\)/],
    ['not an object', 5, /PinDbBullModule\.forRoot takes options such as/],
  ])('%s fails with PinDbConfigError', (_what, options, message) => {
    expect(() => resolvePinDbBullOptions(options as never)).toThrow(PinDbConfigError);
    expect(() => resolvePinDbBullOptions(options as never)).toThrow(message);
  });

  it('@JobConsistency with an unknown mode fails where it is applied', () => {
    expect(() => JobConsistency('eventual' as never)).toThrow(PinDbConfigError);
    expect(() => JobConsistency('eventual' as never)).toThrow("@JobConsistency(\"eventual\"): the modes are 'sticky', 'always', 'delayed'.");
  });
});
