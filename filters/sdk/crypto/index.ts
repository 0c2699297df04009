// Curated exports of the SDK's crypto: SHA-256, HMAC-SHA256, base64url and a constant-time compare.
export { Sha256, sha256, SHA256_BLOCK_BYTES, SHA256_DIGEST_BYTES } from "./sha256";
export { HmacSha256, hmacSha256, constantTimeEqual } from "./hmac";
export { base64UrlEncode, base64UrlDecode, base64UrlDecodeRange, base64UrlDecodedLength } from "./base64url";
