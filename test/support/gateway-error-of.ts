import { GatewayError } from '../../src/spec/errors.js';

/** The GatewayError `action` throws; fails the test when it throws something else or nothing. */
export function gatewayErrorOf(action: () => unknown): GatewayError {
  try {
    action();
  } catch (error) {
    if (error instanceof GatewayError) return error;
    throw error;
  }
  throw new Error('expected a GatewayError');
}
