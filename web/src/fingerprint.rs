//! The content fingerprint in the names and `ETag`s of the app's files.
//! `build.rs` includes this file too, so the names it gives and the checks
//! the tests make are one function.

/// FNV-1a, 64 bits, as 16 hex digits: a fingerprint for cache busting (not
/// security; nobody gains by making two versions of a file collide), with no
/// dependency in the build script.
pub fn fingerprint(bytes: &[u8]) -> String {
    let hash = bytes.iter().fold(0xcbf2_9ce4_8422_2325_u64, |hash, byte| {
        (hash ^ u64::from(*byte)).wrapping_mul(0x0100_0000_01b3)
    });
    format!("{hash:016x}")
}
