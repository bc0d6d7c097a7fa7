import { Controller, Get, INestApplication, Req } from '@nestjs/common';
import { NestExpressApplication } from '@nestjs/platform-express';
import { FastifyAdapter } from '@nestjs/platform-fastify';
import { Test } from '@nestjs/testing';
import { fingerprint, type PinRequest } from '../../lib/index.js';

const BROWSER = { 'user-agent': 'Mozilla/5.0 (X11; Linux x86_64) Firefox/140.0', 'accept-language': 'fr-FR,fr;q=0.9' };
const request = (ip: string | undefined, headers: PinRequest['headers'] = BROWSER, extra: Record<string, unknown> = {}): PinRequest => ({
  ip,
  headers,
  ...extra,
});

describe('fingerprint(req)', () => {
  it('is a short base64url hash, the same for the same IP, User-Agent and Accept-Language', () => {
    const key = fingerprint(request('203.0.113.7'));
    expect(key).toMatch(/^[A-Za-z0-9_-]{22}$/);
    expect(fingerprint(request('203.0.113.7', { ...BROWSER, cookie: 'other=1', 'x-request-id': '42' }))).toBe(key);
  });

  it('differs when the IP, the User-Agent or the Accept-Language differs', () => {
    const keys = [
      fingerprint(request('203.0.113.7')),
      fingerprint(request('203.0.113.8')),
      fingerprint(request('203.0.113.7', { ...BROWSER, 'user-agent': 'curl/8.5.0' })),
      fingerprint(request('203.0.113.7', { ...BROWSER, 'accept-language': 'en-US' })),
      fingerprint(request('203.0.113.7', { 'user-agent': BROWSER['user-agent'] })),
    ];
    expect(new Set(keys).size).toBe(keys.length);
  });

  it('takes the IP from req.ip, never from X-Forwarded-For, which any client can send', () => {
    const key = fingerprint(request('203.0.113.7'));
    expect(fingerprint(request('203.0.113.7', { ...BROWSER, 'x-forwarded-for': '198.51.100.1' }))).toBe(key);
  });

  it('falls back to the socket address (Node request, or Fastify raw request) when req.ip is missing', () => {
    const key = fingerprint(request('203.0.113.7'));
    expect(fingerprint(request(undefined, BROWSER, { socket: { remoteAddress: '203.0.113.7' } }))).toBe(key);
    expect(fingerprint(request(undefined, BROWSER, { raw: { socket: { remoteAddress: '203.0.113.7' } } }))).toBe(key);
  });

  it('counts an IPv4 address seen through a dual-stack socket (::ffff:a.b.c.d) as that address', () => {
    expect(fingerprint(request('::ffff:203.0.113.7'))).toBe(fingerprint(request('203.0.113.7')));
    expect(fingerprint(request('2001:db8::7'))).not.toBe(fingerprint(request('203.0.113.7')));
  });

  it('reads repeated headers joined, and returns undefined when the request has none of the three', () => {
    expect(fingerprint(request('203.0.113.7', { 'accept-language': ['fr', 'en'] }))).toBe(fingerprint(request('203.0.113.7', { 'accept-language': 'fr, en' })));
    expect(fingerprint(request(undefined, {}))).toBeUndefined();
  });
});

/** Answers the fingerprint of the request as the framework gives it to Nest (the way clientKey sees it). */
@Controller()
class FingerprintController {
  @Get('fingerprint')
  key(@Req() req: PinRequest) {
    return { key: fingerprint(req), ip: req.ip };
  }
}

// Trust proxy is set as a user would: app.set('trust proxy', …) on Express, FastifyAdapter({ trustProxy }) on Fastify.
describe.each(['express', 'fastify'])('fingerprint on real %s requests', (platform) => {
  async function start(trustProxy: boolean): Promise<{ app: INestApplication; url: string }> {
    const moduleRef = await Test.createTestingModule({ controllers: [FingerprintController] }).compile();
    const app =
      platform === 'fastify'
        ? moduleRef.createNestApplication(new FastifyAdapter({ trustProxy }))
        : moduleRef.createNestApplication<NestExpressApplication>({ logger: false });
    if (platform === 'express') (app as NestExpressApplication).set('trust proxy', trustProxy);
    if (platform === 'fastify') app.useLogger(false);
    await app.listen(0, '127.0.0.1');
    return { app, url: (await app.getUrl()).replace('[::1]', '127.0.0.1') };
  }
  const keyOf = async (url: string, headers: Record<string, string>) =>
    (await (await fetch(`${url}/fingerprint`, { headers: { ...BROWSER, ...headers } })).json()) as { key: string; ip: string };

  it('without trust proxy: the peer address counts, and X-Forwarded-For cannot change the key', async () => {
    const { app, url } = await start(false);
    try {
      const plain = await keyOf(url, {});
      const spoofed = await keyOf(url, { 'x-forwarded-for': '198.51.100.1' });
      expect(plain.ip).toBe('127.0.0.1');
      expect(spoofed.key).toBe(plain.key);
      expect(plain.key).toBe(fingerprint(request('127.0.0.1')));
    } finally {
      await app.close();
    }
  });

  it('with trust proxy: the client address from X-Forwarded-For counts, so clients behind one proxy get their own keys', async () => {
    const { app, url } = await start(true);
    try {
      const one = await keyOf(url, { 'x-forwarded-for': '198.51.100.1' });
      const two = await keyOf(url, { 'x-forwarded-for': '198.51.100.2' });
      expect(one.ip).toBe('198.51.100.1');
      expect(one.key).not.toBe(two.key);
      expect(one.key).toBe(fingerprint(request('198.51.100.1')));
    } finally {
      await app.close();
    }
  });
});
