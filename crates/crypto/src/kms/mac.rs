//! HMAC KMS keys: generation, GenerateMac, VerifyMac.
