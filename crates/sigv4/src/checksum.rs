//! The flexible checksums S3 clients send as trailers (`x-amz-checksum-crc32`, `-crc32c`,
//! `-crc64nvme`, `-sha1`, `-sha256`), computed over the decoded body as it streams.

use sha1::Digest as _;

/// A running checksum of one of the trailer algorithms.
#[derive(Clone)]
pub enum Checksum {
    /// CRC-32 (ISO-HDLC).
    Crc32(crc32fast::Hasher),
    /// CRC-32C (Castagnoli).
    Crc32c(u32),
    /// CRC-64/NVME (the running, not yet inverted, register).
    Crc64Nvme(u64),
    /// SHA-1.
    Sha1(sha1::Sha1),
    /// SHA-256.
    Sha256(sha2::Sha256),
}

impl std::fmt::Debug for Checksum {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.header_name())
    }
}

impl Checksum {
    /// The checksum for a trailer header name (`x-amz-checksum-crc32`...), if supported.
    pub fn for_header(name: &str) -> Option<Checksum> {
        match name.trim().to_ascii_lowercase().as_str() {
            "x-amz-checksum-crc32" => Some(Checksum::Crc32(crc32fast::Hasher::new())),
            "x-amz-checksum-crc32c" => Some(Checksum::Crc32c(0)),
            "x-amz-checksum-crc64nvme" => Some(Checksum::Crc64Nvme(u64::MAX)),
            "x-amz-checksum-sha1" => Some(Checksum::Sha1(sha1::Sha1::new())),
            "x-amz-checksum-sha256" => Some(Checksum::Sha256(sha2::Sha256::new())),
            _ => None,
        }
    }

    /// The trailer header that carries it.
    pub fn header_name(&self) -> &'static str {
        match self {
            Checksum::Crc32(_) => "x-amz-checksum-crc32",
            Checksum::Crc32c(_) => "x-amz-checksum-crc32c",
            Checksum::Crc64Nvme(_) => "x-amz-checksum-crc64nvme",
            Checksum::Sha1(_) => "x-amz-checksum-sha1",
            Checksum::Sha256(_) => "x-amz-checksum-sha256",
        }
    }

    /// Adds data.
    pub fn update(&mut self, data: &[u8]) {
        match self {
            Checksum::Crc32(h) => h.update(data),
            Checksum::Crc32c(c) => *c = crc32c::crc32c_append(*c, data),
            Checksum::Crc64Nvme(c) => *c = crc64nvme_update(*c, data),
            Checksum::Sha1(h) => h.update(data),
            Checksum::Sha256(h) => sha2::Digest::update(h, data),
        }
    }

    /// The checksum as base64, as the header carries it.
    pub fn finish_base64(&self) -> String {
        let bytes = match self.clone() {
            Checksum::Crc32(h) => h.finalize().to_be_bytes().to_vec(),
            Checksum::Crc32c(c) => c.to_be_bytes().to_vec(),
            Checksum::Crc64Nvme(c) => (!c).to_be_bytes().to_vec(),
            Checksum::Sha1(h) => h.finalize().to_vec(),
            Checksum::Sha256(h) => sha2::Digest::finalize(h).to_vec(),
        };
        base64(&bytes)
    }
}

/// CRC-64/NVME's polynomial, bit-reflected (0xAD93D23594C93659 reversed).
const CRC64_NVME_REFLECTED: u64 = 0x9A6C_9329_AC4B_C9B5;

/// The byte-at-a-time table of CRC-64/NVME.
fn crc64nvme_table() -> &'static [u64; 256] {
    static TABLE: std::sync::OnceLock<[u64; 256]> = std::sync::OnceLock::new();
    TABLE.get_or_init(|| {
        let mut table = [0u64; 256];
        for (n, slot) in (0u64..).zip(table.iter_mut()) {
            let mut c = n;
            for _ in 0..8 {
                c = if c & 1 == 1 { (c >> 1) ^ CRC64_NVME_REFLECTED } else { c >> 1 };
            }
            *slot = c;
        }
        table
    })
}

/// CRC-64/NVME (reflected, initial and final XOR all ones) over `data`, continuing `register`.
fn crc64nvme_update(register: u64, data: &[u8]) -> u64 {
    let table = crc64nvme_table();
    data.iter().fold(register, |c, b| {
        let index = usize::from(u8::try_from(c & 0xFF).unwrap_or(0) ^ b);
        table.get(index).copied().unwrap_or(0) ^ (c >> 8)
    })
}

/// Standard base64 with padding.
pub fn base64(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let sextet = |v: u32| char::from(ALPHABET.get((v & 63) as usize).copied().unwrap_or(b'A'));
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let b = |i: usize| u32::from(chunk.get(i).copied().unwrap_or(0));
        let n = (b(0) << 16) | (b(1) << 8) | b(2);
        out.push(sextet(n >> 18));
        out.push(sextet(n >> 12));
        out.push(if chunk.len() > 1 { sextet(n >> 6) } else { '=' });
        out.push(if chunk.len() > 2 { sextet(n) } else { '=' });
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_values() {
        // Checksums of "Hello world" as S3's documentation and SDKs print them.
        let mut c = Checksum::for_header("x-amz-checksum-crc32").unwrap();
        c.update(b"Hello world");
        assert_eq!(c.finish_base64(), "i9aeUg==");
        let mut c = Checksum::for_header("x-amz-checksum-crc32c").unwrap();
        c.update(b"Hello ");
        c.update(b"world");
        assert_eq!(c.finish_base64(), "crUfeA==");
        let mut c = Checksum::for_header("x-amz-checksum-sha256").unwrap();
        c.update(b"");
        assert_eq!(c.finish_base64(), "47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=");
        assert_eq!(base64(b"ab"), "YWI=");
        // CRC-64/NVME's check value (the CRC catalogue: "123456789" -> 0xAE8B14860A799888).
        let mut c = Checksum::for_header("x-amz-checksum-crc64nvme").unwrap();
        c.update(b"12345");
        c.update(b"6789");
        assert_eq!(c.finish_base64(), base64(&0xAE8B_1486_0A79_9888u64.to_be_bytes()));
        assert!(Checksum::for_header("x-amz-checksum-md5").is_none());
    }
}
