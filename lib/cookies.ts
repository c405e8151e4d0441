/**
 * Rivulet's cookie scheme, shared by every app that installs flow entries (64 bits): `0x5256` ("RV") in
 * bits 63–48, the app id in bits 47–40 (0x01 routing, 0x02 enforcement), a serial in bits 39–0. An app
 * deletes or recognises its own entries by prefix + mask, one entry by its exact cookie.
 */

/** The tag in bits 63–48. */
const TAG = 0x5256n;
/** Mask selecting tag + app id. */
export const APP_COOKIE_PREFIX_MASK = 0xffff_ffn << 40n;
/** Exact-match cookie mask (OpenFlow 1.3.5 §7.3.4.2: all bits must match). */
export const ALL_ONES_64 = (1n << 64n) - 1n;
const SERIAL_MASK = (1n << 40n) - 1n;

/**
 * The prefixes of the 256 app ids, computed once: a cookie is made on every flow setup, and each BigInt
 * operation allocates, so building one costs one conversion and two operations instead of six.
 */
const PREFIXES: readonly bigint[] = Array.from({ length: 256 }, (_, id) => (TAG << 48n) | (BigInt(id) << 40n));

/** The prefix of app `appId` (0–255; only the low 8 bits are kept). */
export function appCookiePrefix(appId: number): bigint {
  return PREFIXES[appId & 0xff]!;
}

/** The cookie of entry number `serial` of app `appId` (only the low 40 bits of the serial are kept). */
export function appCookie(appId: number, serial: number): bigint {
  return appCookiePrefix(appId) | (BigInt(serial) & SERIAL_MASK);
}

/** A 64-bit cookie as 16 lower-case hex digits (the REST form of a route's cookie). */
export function cookieHex(cookie: bigint): string {
  return cookie.toString(16).padStart(16, '0');
}

/** True for cookies of app `appId`. */
export function isAppCookie(appId: number, cookie: bigint): boolean {
  return (cookie & APP_COOKIE_PREFIX_MASK) === appCookiePrefix(appId);
}
