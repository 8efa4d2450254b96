//! The system's secure random source (wasi:random on wasm32-wasip2, the OS
//! natively) as the `rand_core` 0.6 generator the RustCrypto key crates
//! take. Kept here rather than `rand_core::OsRng`, whose getrandom 0.2 needs
//! the WASI preview1 adapter on wasm32-wasip2.

use crate::KeyError;

pub(crate) struct SystemRng;

impl SystemRng {
    /// Checks the source works, so that the infallible `fill_bytes` below
    /// cannot fail in practice (wasi:random cannot fail at all).
    pub(crate) fn new() -> Result<SystemRng, KeyError> {
        getrandom::fill(&mut [0u8; 1])
            .map_err(|e| KeyError::Internal(format!("no secure randomness available: {e}")))?;
        Ok(SystemRng)
    }
}

impl rand_core::RngCore for SystemRng {
    fn next_u32(&mut self) -> u32 {
        rand_core::impls::next_u32_via_fill(self)
    }

    fn next_u64(&mut self) -> u64 {
        rand_core::impls::next_u64_via_fill(self)
    }

    fn fill_bytes(&mut self, dest: &mut [u8]) {
        // Signing with predictable randomness is worse than aborting the
        // call, and `SystemRng::new` already proved the source works.
        if let Err(e) = getrandom::fill(dest) {
            panic!("secure random source failed after working: {e}");
        }
    }

    fn try_fill_bytes(&mut self, dest: &mut [u8]) -> Result<(), rand_core::Error> {
        const CODE: std::num::NonZeroU32 =
            match std::num::NonZeroU32::new(rand_core::Error::CUSTOM_START) {
                Some(code) => code,
                None => std::num::NonZeroU32::MIN,
            };
        getrandom::fill(dest).map_err(|_| rand_core::Error::from(CODE))
    }
}

impl rand_core::CryptoRng for SystemRng {}
