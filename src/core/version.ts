/** Slipway's own version, reported by GET /v2 and `slipway --version`. */
export const SLIPWAY_VERSION = '0.1.0';
