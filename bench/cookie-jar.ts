/** One simulated browser's cookies: kept from Set-Cookie (Max-Age honoured, Max-Age=0 deletes), sent back in Cookie. */
import { parseSetCookie, stringifyCookie } from 'cookie';

export class CookieJar {
  private readonly cookies = new Map<string, { value: string; expiresAt: number }>();

  /** The Cookie header for the next request, or undefined when the jar holds nothing live. */
  header(now = Date.now()): string | undefined {
    const live: Record<string, string> = {};
    for (const [name, { value, expiresAt }] of this.cookies) {
      if (expiresAt > now) live[name] = value;
      else this.cookies.delete(name);
    }
    return Object.keys(live).length > 0 ? stringifyCookie(live) : undefined;
  }

  /** Takes a response's Set-Cookie headers. */
  store(setCookie: string[] | undefined, now = Date.now()): void {
    for (const line of setCookie ?? []) {
      const cookie = parseSetCookie(line);
      if (!cookie.value || (cookie.maxAge !== undefined && cookie.maxAge <= 0)) {
        this.cookies.delete(cookie.name);
        continue;
      }
      const expiresAt = cookie.maxAge !== undefined ? now + cookie.maxAge * 1000 : Number.POSITIVE_INFINITY;
      this.cookies.set(cookie.name, { value: cookie.value, expiresAt });
    }
  }
}
