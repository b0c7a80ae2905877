/** A tracker call got an argument it cannot send (thrown at the call, never in the emitter). */
export class InvalidEventError extends Error {
  override name = 'InvalidEventError';
}
