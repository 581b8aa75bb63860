/**
 * Connection timeouts of every listener that phones and browsers reach (HTTP, HTTPS, phone
 * workers): idle keep-alive 65 s, longer than the 60 s of common reverse proxies so the proxy
 * closes first; headers within 30 s (slow senders); a whole request (an upload) within 60 s.
 */
export const HTTP_TIMEOUTS = { keepAliveTimeout: 65_000, headersTimeout: 30_000, requestTimeout: 60_000 } as const;
