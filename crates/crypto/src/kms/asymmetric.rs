//! Asymmetric KMS keys (RSA, ECC NIST): generation, public keys, signing, RSA-OAEP.
