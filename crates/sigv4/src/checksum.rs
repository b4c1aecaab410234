//! The flexible checksums S3 clients send as trailers (`x-amz-checksum-crc32`, `-crc32c`,
//! `-crc64nvme`, `-sha1`, `-sha256`), computed over the decoded body as it streams; and, for
//! the three CRCs, the CRC of data laid end to end from its pieces' CRCs ([`combine_crc`]), as
//! S3's full-object checksum of a multipart upload is.

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

    /// The checksum's bytes (a CRC big-endian), as the header carries them before base64.
    pub fn finish_bytes(&self) -> Vec<u8> {
        match self.clone() {
            Checksum::Crc32(h) => h.finalize().to_be_bytes().to_vec(),
            Checksum::Crc32c(c) => c.to_be_bytes().to_vec(),
            Checksum::Crc64Nvme(c) => (!c).to_be_bytes().to_vec(),
            Checksum::Sha1(h) => h.finalize().to_vec(),
            Checksum::Sha256(h) => sha2::Digest::finalize(h).to_vec(),
        }
    }

    /// The checksum as base64, as the header carries it.
    pub fn finish_base64(&self) -> String {
        base64(&self.finish_bytes())
    }
}

/// CRC-32's polynomial, bit-reflected.
const CRC32_REFLECTED: u64 = 0xEDB8_8320;
/// CRC-32C's polynomial, bit-reflected.
const CRC32C_REFLECTED: u64 = 0x82F6_3B78;

/// A linear operator on a CRC register over GF(2): row `n` is what bit `n` becomes (only the
/// first `width` rows are used).
type Matrix = [u64; 64];

/// `matrix` applied to `vector`.
fn matrix_times(matrix: &Matrix, mut vector: u64) -> u64 {
    let mut sum = 0;
    for row in matrix {
        if vector == 0 {
            break;
        }
        if vector & 1 == 1 {
            sum ^= row;
        }
        vector >>= 1;
    }
    sum
}

/// `matrix` applied twice, as one operator.
fn matrix_square(matrix: &Matrix, width: usize) -> Matrix {
    let mut square = [0u64; 64];
    for (out, row) in square.iter_mut().zip(matrix.iter()).take(width) {
        *out = matrix_times(matrix, *row);
    }
    square
}

/// The CRC of `A || B` from `crc(A)`, `crc(B)` and `B`'s length in bytes, for a bit-reflected
/// CRC of `width` bits (32 or 64) with polynomial `poly` whose initial value and final XOR are
/// all ones (zlib's `crc32_combine`: `crc(A)` is run through `len2` zero bytes by squaring the
/// one-zero-bit operator, then XORed with `crc(B)`). O(width² log len2), independent of the
/// data.
fn combine(poly: u64, width: usize, mut crc1: u64, crc2: u64, mut len2: u64) -> u64 {
    if len2 == 0 {
        return crc1;
    }
    // The operator for one zero bit: shift right, XOR the polynomial in for the bit shifted out.
    let mut odd: Matrix = [0u64; 64];
    for (n, row) in odd.iter_mut().enumerate().take(width) {
        *row = if n == 0 { poly } else { 1u64 << (n - 1) };
    }
    // Two zero bits, then four.
    let mut even = matrix_square(&odd, width);
    odd = matrix_square(&even, width);
    // Each pass squares once more (the first gives one zero byte) and applies the operator
    // for each bit of `len2` that is set.
    loop {
        even = matrix_square(&odd, width);
        if len2 & 1 == 1 {
            crc1 = matrix_times(&even, crc1);
        }
        len2 >>= 1;
        if len2 == 0 {
            break;
        }
        odd = matrix_square(&even, width);
        if len2 & 1 == 1 {
            crc1 = matrix_times(&odd, crc1);
        }
        len2 >>= 1;
        if len2 == 0 {
            break;
        }
    }
    crc1 ^ crc2
}

/// For the CRC a trailer header names (`x-amz-checksum-crc32`, `-crc32c`, `-crc64nvme`): the CRC
/// (big-endian bytes, as [`Checksum::finish_bytes`] gives them) of data `A` followed by data
/// `B`, from `first` (`A`'s CRC), `second` (`B`'s) and `B`'s length in bytes. `None` for
/// another algorithm (a hash does not combine) or a CRC of the wrong length.
pub fn combine_crc(
    header_name: &str,
    first: &[u8],
    second: &[u8],
    second_len: u64,
) -> Option<Vec<u8>> {
    let (poly, width) = match header_name.trim().to_ascii_lowercase().as_str() {
        "x-amz-checksum-crc32" => (CRC32_REFLECTED, 32),
        "x-amz-checksum-crc32c" => (CRC32C_REFLECTED, 32),
        "x-amz-checksum-crc64nvme" => (CRC64_NVME_REFLECTED, 64),
        _ => return None,
    };
    let bytes = width / 8;
    let read = |crc: &[u8]| -> Option<u64> {
        (crc.len() == bytes).then(|| crc.iter().fold(0u64, |v, b| (v << 8) | u64::from(*b)))
    };
    let combined = combine(poly, width, read(first)?, read(second)?, second_len);
    combined.to_be_bytes().get(8 - bytes..).map(<[u8]>::to_vec)
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

    fn crc_of(name: &str, data: &[u8]) -> Vec<u8> {
        let mut c = Checksum::for_header(name).unwrap();
        c.update(data);
        c.finish_bytes()
    }

    /// Combining two pieces' CRCs gives the CRC computed over the two laid end to end, for
    /// every split of the data (empty pieces too) and each of the three CRCs.
    #[test]
    fn crcs_combine_as_computed_over_the_concatenation() {
        let data: Vec<u8> =
            (0u32..3000).map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8).collect();
        for name in ["x-amz-checksum-crc32", "x-amz-checksum-crc32c", "x-amz-checksum-crc64nvme"] {
            for split in [0, 1, 7, 64, 1000, 2999, 3000] {
                let (a, b) = data.split_at(split);
                let combined =
                    combine_crc(name, &crc_of(name, a), &crc_of(name, b), b.len() as u64).unwrap();
                assert_eq!(combined, crc_of(name, &data), "{name} split at {split}");
            }
            // Three pieces, folded left, as a multipart upload's parts are.
            let (a, rest) = data.split_at(1234);
            let (b, c) = rest.split_at(555);
            let ab = combine_crc(name, &crc_of(name, a), &crc_of(name, b), b.len() as u64).unwrap();
            let abc = combine_crc(name, &ab, &crc_of(name, c), c.len() as u64).unwrap();
            assert_eq!(abc, crc_of(name, &data), "{name} in three pieces");
        }
        // Hashes do not combine; a CRC of the wrong length is refused.
        assert!(combine_crc("x-amz-checksum-sha256", &[0; 32], &[0; 32], 1).is_none());
        assert!(combine_crc("x-amz-checksum-crc32", &[0; 8], &[0; 4], 1).is_none());
    }

    /// The full-object checksums of ceph's s3-tests (`test_multipart_use_cksum_helper_*`): three
    /// 5 MiB parts of `A`, `B` and `C`, each part's CRC as the test gives it, and the whole.
    #[test]
    fn crcs_combine_to_s3_tests_full_object_values() {
        const PART: u64 = 5 * 1024 * 1024;
        let fold = |name: &str, parts: [&[u8]; 3]| {
            let ab = combine_crc(name, parts[0], parts[1], PART).unwrap();
            combine_crc(name, &ab, parts[2], PART).unwrap()
        };
        let crc32 = [0x2514_c2c9u32, 0x4286_531a, 0x6008_23ab].map(u32::to_be_bytes);
        assert_eq!(
            fold("x-amz-checksum-crc32", [&crc32[0][..], &crc32[1][..], &crc32[2][..]]),
            0x5a00_e105u32.to_be_bytes()
        );
        let crc32c = [0x3036_8bafu32, 0x4c7e_0466, 0x67b9_8121].map(u32::to_be_bytes);
        assert_eq!(
            fold("x-amz-checksum-crc32c", [&crc32c[0][..], &crc32c[1][..], &crc32c[2][..]]),
            0xc54f_8aafu32.to_be_bytes()
        );
        let crc64 = [0x2ff1_3859_89fc_bfdfu64, 0xc56d_65d7_d568_6d83, 0x70ae_4c9c_d696_ad6e]
            .map(u64::to_be_bytes);
        assert_eq!(
            fold("x-amz-checksum-crc64nvme", [&crc64[0][..], &crc64[1][..], &crc64[2][..]]),
            0x8bee_8b47_4cb7_785au64.to_be_bytes()
        );
        // And the first part's CRC-32 as computed here.
        assert_eq!(crc_of("x-amz-checksum-crc32", &vec![b'A'; PART as usize]), crc32[0]);
    }
}
