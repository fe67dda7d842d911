/**
 * 64-bit integers as the protobuf codec hands them out: `Long` objects (from the `long` package)
 * when it is installed, plain numbers otherwise or when a caller built the message by hand.
 */
import { OnnxErrors } from './errors.js';

/** The shape of a `Long` from the `long` package, as far as these helpers need it. */
export interface LongLike {
  readonly low: number;
  readonly high: number;
  readonly unsigned: boolean;
}

/** A protobuf int64/uint64 value as the codec may hold it. */
export type Int64Value = number | LongLike;

const TWO_32 = 2 ** 32;

function isLongLike(v: unknown): v is LongLike {
  return typeof v === 'object' && v !== null && typeof (v as LongLike).low === 'number' && typeof (v as LongLike).high === 'number';
}

/**
 * Converts a protobuf 64-bit integer to a number; absent values (the proto default) give 0.
 * Throws ONNX_INT64_OUT_OF_RANGE when the value is not a safe integer, so no value is silently rounded.
 */
export function longToNumber(v: Int64Value | null | undefined, what = 'an int64 value'): number {
  if (v === null || v === undefined) return 0;
  let n: number;
  if (typeof v === 'number') n = v;
  else if (isLongLike(v)) n = (v.unsigned ? v.high >>> 0 : v.high | 0) * TWO_32 + (v.low >>> 0);
  else n = Number(v);
  if (!Number.isSafeInteger(n)) {
    throw OnnxErrors.ONNX_INT64_OUT_OF_RANGE(`${what} is ${int64ToBigInt(v).toString()}, beyond the safe integer range (±(2^53 - 1))`, {
      details: { value: int64ToBigInt(v).toString() },
    });
  }
  return n;
}

/** Converts a protobuf 64-bit integer to a bigint, exactly; absent values give 0n. */
export function int64ToBigInt(v: Int64Value | null | undefined): bigint {
  if (v === null || v === undefined) return 0n;
  if (typeof v === 'number') return BigInt(Math.trunc(v));
  if (isLongLike(v)) {
    const bits = (BigInt(v.high >>> 0) << 32n) | BigInt(v.low >>> 0);
    return v.unsigned ? bits : BigInt.asIntN(64, bits);
  }
  return BigInt(String(v));
}
