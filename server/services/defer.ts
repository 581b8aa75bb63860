/**
 * A phone worker (server/cluster/) writes nothing: a request whose answer would write (an unknown
 * MAC with autoRegister, a device's first download credentials) throws this, and the worker
 * passes the request to the primary process.
 */
export class DeferToPrimary extends Error {
  constructor(readonly reason: string) {
    super(`deferred to the primary process: ${reason}`);
  }
}
