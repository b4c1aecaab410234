//! The PKCS#11 root of trust (an HSM; tested against SoftHSM2).
