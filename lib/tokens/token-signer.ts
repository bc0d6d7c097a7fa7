import { createCipheriv, createDecipheriv, createSecretKey, hkdfSync, KeyObject, randomBytes } from 'node:crypto';

/** The most a token may weigh on the wire; anything longer is ignored unread. */
export const MAX_TOKEN_LENGTH = 4096;

/** Names the format; also authenticated (as GCM's additional data), so a token cannot be replayed as another version. */
const VERSION = 'v1';
const PREFIX = `${VERSION}.`;

/**
 * Fixed HKDF inputs naming the purpose: a secret the app also uses elsewhere still yields a key
 * of its own here, and another format version would get other keys.
 */
const HKDF_SALT = 'nestjs-pindb';
const HKDF_INFO = 'nestjs-pindb read-your-writes token v1 aes-256-gcm';

const IV_BYTES = 12; // 96 bits: GCM's native nonce size; random per token.
const TAG_BYTES = 16;

/**
 * Plaintexts are padded to a multiple of this, so a token's length does not tell how many hex
 * digits the WAL position has (which would still hint at the primary's write volume).
 */
const PAD_BLOCK = 32;

/** Only the base64url alphabet: Node's decoder skips other characters, which would let many texts open as one token. */
const BASE64URL = /^[A-Za-z0-9_-]+$/;

/**
 * Seals tokens so clients can neither read nor forge them: AES-256-GCM with a random 96-bit IV
 * per token, under a key derived (HKDF-SHA256) from the first secret. Opens a token sealed under
 * any of the secrets: rotate by putting the new secret first and dropping the old one after
 * pinSeconds.
 *
 * A token is `v1.<base64url(iv | ciphertext | tag)>`: cookie-octets and HTTP token characters
 * only, so it travels unescaped in a cookie or a header. The payload (set names, WAL positions,
 * expiries) is hidden and its length padded; tokens of the earlier signed-but-readable format
 * (`<payload>.<hmac>`) simply do not open, so clients holding one read as if they had none.
 *
 * The methods keep their historical names: `sign` seals, `verify` opens.
 */
export class TokenSigner {
  /** Derived once: HKDF costs more than sealing a token. The first key seals. */
  private readonly keys: readonly KeyObject[];

  constructor(secrets: readonly string[]) {
    if (secrets.length === 0) throw new Error('TokenSigner needs at least one secret.');
    this.keys = secrets.map((secret) => createSecretKey(Buffer.from(hkdfSync('sha256', secret, HKDF_SALT, HKDF_INFO, 32))));
  }

  /** Seals `payload` under the first secret. */
  sign(payload: string): string {
    const iv = randomBytes(IV_BYTES);
    const cipher = createCipheriv('aes-256-gcm', this.keys[0], iv, { authTagLength: TAG_BYTES });
    cipher.setAAD(Buffer.from(VERSION));
    const sealed = Buffer.concat([iv, cipher.update(pad(Buffer.from(payload, 'utf8'))), cipher.final(), cipher.getAuthTag()]);
    return PREFIX + sealed.toString('base64url');
  }

  /**
   * The payload of a token sealed under any of the secrets, else undefined: never throws on client
   * input (garbage, truncated, tampered, another key or version, not a string). GCM's tag check is
   * the comparison, and it is constant-time.
   */
  verify(token: unknown): string | undefined {
    if (typeof token !== 'string' || token.length > MAX_TOKEN_LENGTH || !token.startsWith(PREFIX)) return undefined;
    const text = token.slice(PREFIX.length);
    if (!BASE64URL.test(text)) return undefined;
    const sealed = Buffer.from(text, 'base64url');
    // Unused low bits in the last character would otherwise give one token several spellings.
    if (sealed.length < IV_BYTES + PAD_BLOCK + TAG_BYTES || sealed.toString('base64url') !== text) return undefined;
    const iv = sealed.subarray(0, IV_BYTES);
    const ciphertext = sealed.subarray(IV_BYTES, sealed.length - TAG_BYTES);
    const tag = sealed.subarray(sealed.length - TAG_BYTES);
    for (const key of this.keys) {
      const plain = open(key, iv, ciphertext, tag);
      if (plain) return unpad(plain)?.toString('utf8');
    }
    return undefined;
  }
}

function open(key: KeyObject, iv: Buffer, ciphertext: Buffer, tag: Buffer): Buffer | undefined {
  try {
    const decipher = createDecipheriv('aes-256-gcm', key, iv, { authTagLength: TAG_BYTES });
    decipher.setAAD(Buffer.from(VERSION));
    decipher.setAuthTag(tag);
    return Buffer.concat([decipher.update(ciphertext), decipher.final()]);
  } catch {
    return undefined; // The tag does not match: another key, or tampered.
  }
}

/** ISO/IEC 7816-4 padding (0x80, then zeros): unambiguous whatever bytes the payload ends with. */
function pad(plain: Buffer): Buffer {
  const padded = Buffer.alloc(Math.ceil((plain.length + 1) / PAD_BLOCK) * PAD_BLOCK);
  plain.copy(padded);
  padded[plain.length] = 0x80;
  return padded;
}

function unpad(padded: Buffer): Buffer | undefined {
  let end = padded.length - 1;
  while (end >= 0 && padded[end] === 0) end--;
  // Authenticated, so always well padded; checked anyway rather than trusted.
  return end >= 0 && padded[end] === 0x80 ? padded.subarray(0, end) : undefined;
}
