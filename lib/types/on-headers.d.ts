// on-headers ships no types (and the @types package of that name describes another module).
declare module 'on-headers' {
  import type { ServerResponse } from 'node:http';
  /** Calls `listener` once, just before `response` writes its headers (on its first writeHead). */
  function onHeaders(response: ServerResponse, listener: (this: ServerResponse) => void): void;
  export = onHeaders;
}
