import type { ServerResponse } from 'node:http';
import { errorText } from '../errors/error-text.js';
import { ThrottledWarning } from '../logging/throttled-warning.js';

/** The calls that start a response's output: the first of them sends (or commits to) its headers. */
type Output = 'writeHead' | 'flushHeaders' | 'write' | 'end';
/** A call that was queued, not made. */
const HELD = Symbol('held');

const warnings = new ThrottledWarning();

/**
 * Lets an HTTP response's headers wait for what they must carry. At the response's first output
 * (Express's res.json() or res.end(), Fastify's reply.send(), an @Res() handler's own write, a
 * stream or an event stream starting), `ready()` says whether anything must be read first (the
 * primary's position for a read-your-writes token, the pin store): undefined, and the call goes
 * through at once (a plain GET pays nothing more); a promise, and that call and the ones after it
 * are held, in order, until it settles, then made as they were. So every way a handler answers
 * waits the same, without an interceptor around each handler.
 *
 * Installed after on-headers, so that the header-time listener (which writes the token) runs once
 * the wait is over. A held write answers false, and the response emits 'drain' once the held
 * calls are made, so a stream piped into it waits instead of filling the queue.
 */
export function holdFirstOutput(response: ServerResponse, ready: () => Promise<void> | undefined): void {
  const original = {
    writeHead: response.writeHead,
    flushHeaders: response.flushHeaders,
    write: response.write,
    end: response.end,
  };
  let held: [Output, unknown[]][] | undefined;
  let askedToWait = false;
  const restore = () => {
    response.writeHead = original.writeHead;
    response.flushHeaders = original.flushHeaders;
    response.write = original.write;
    response.end = original.end;
  };
  const release = () => {
    restore();
    const calls = held!;
    held = undefined;
    let drained = true;
    for (const [method, args] of calls) {
      try {
        const result: unknown = Reflect.apply(original[method], response, args);
        if (method === 'write') drained = result !== false;
      } catch (error) {
        // Made by the caller, the call would have thrown there (a header value Node rejects): the
        // caller has moved on, so the response cannot be answered any more.
        warnings.warn('held-output', `A response failed once its read-your-writes token was ready: ${errorText(error)}`);
        response.destroy();
        return;
      }
    }
    if (askedToWait && drained && !response.destroyed) response.emit('drain');
  };
  /** The call, made now (its result), or held (HELD). */
  const call = (method: Output, args: unknown[]): unknown => {
    if (held) {
      held.push([method, args]);
      return HELD;
    }
    const preparing = response.headersSent ? undefined : prepared(ready);
    if (!preparing) {
      restore();
      return Reflect.apply(original[method], response, args);
    }
    held = [[method, args]];
    preparing.then(release, release);
    return HELD;
  };
  response.writeHead = (...args: unknown[]) => {
    call('writeHead', args);
    return response;
  };
  response.flushHeaders = (...args: unknown[]) => {
    call('flushHeaders', args);
  };
  response.write = (...args: unknown[]) => {
    const result = call('write', args);
    if (result !== HELD) return result !== false;
    askedToWait = true;
    return false;
  };
  response.end = (...args: unknown[]) => {
    call('end', args);
    return response;
  };
}

/** `ready()`, which must not fail the response: if it throws, nothing is waited for (the token goes out with what is known). */
function prepared(ready: () => Promise<void> | undefined): Promise<void> | undefined {
  try {
    return ready();
  } catch (error) {
    warnings.warn('prepare-output', `Could not prepare a response's read-your-writes token: ${errorText(error)}`);
    return undefined;
  }
}
