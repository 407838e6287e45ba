/**
 * Secret keys and dashboard passwords. A secret key is long and random, so a
 * fast SHA-256 is enough to store it (it cannot be guessed from a dictionary)
 * and lets every SMTP AUTH find its key with one indexed lookup; passwords are
 * chosen by people, so they get Argon2id.
 */
import { createHash, randomBytes } from 'node:crypto';
import { hash, verify } from '@node-rs/argon2';

const KEY_PREFIX = 'mr_';

export function generateSecretKey(): string {
  return KEY_PREFIX + randomBytes(24).toString('base64url');
}

export function hashSecretKey(secret: string): string {
  return createHash('sha256').update(secret).digest('hex');
}

/** The last characters of a key, so a user can tell their keys apart in lists. */
export function keyHint(secret: string): string {
  return '…' + secret.slice(-4);
}

export function generatePassword(): string {
  return randomBytes(12).toString('base64url');
}

export function hashPassword(password: string): Promise<string> {
  return hash(password, { memoryCost: 19_456, timeCost: 2, parallelism: 1 });
}

export function verifyPassword(passwordHash: string, password: string): Promise<boolean> {
  return verify(passwordHash, password).catch(() => false);
}
