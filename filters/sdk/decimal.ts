// Decimal formatting without the standard library's radix formatter (i32#toString links it, its digit
// table and its error texts, ≈ 0.4 KiB). The abort line uses putDecimal too, so every module has it.
import { decodeUtf8At } from "./utf8";

/** decimalLength returns how many digits `n` has in decimal (1 to 10): size a buffer before putDecimal. */
export function decimalLength(n: u32): usize {
  let digits: usize = 1;
  for (let t = n; t >= 10; t /= 10) digits++;
  return digits;
}

/** putDecimal writes `n` in decimal as ASCII bytes at `at` (at most 10) and returns the address after them. */
export function putDecimal(at: usize, n: u32): usize {
  const digits = decimalLength(n);
  for (let i = digits; i > 0; i--) {
    store<u8>(at + i - 1, <u8>(0x30 + n % 10));
    n /= 10;
  }
  return at + digits;
}

/**
 * decimal returns `n` written in decimal ("42", "-7"), the same text as `n.toString()`. Use it for
 * counts and offsets in log lines: a module that formats no other number then carries no radix
 * formatter (≈ 0.4 KiB). Never fails.
 */
export function decimal(n: i32): string {
  const scratch = memory.data(11);
  let end = scratch;
  if (n < 0) store<u8>(end++, 0x2d);
  end = putDecimal(end, n < 0 ? <u32>-n : <u32>n);
  // The UTF-8 decoder is linked wherever a configuration is read, and ASCII is its fast path.
  return decodeUtf8At(scratch, end - scratch);
}
