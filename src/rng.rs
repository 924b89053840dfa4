//! Seeded randomness: every random choice in fairmark flows from a user seed.
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

/// An independent random stream for `(seed, stream)`. Work item `i` of a
/// parallel loop takes stream `i`, so results do not depend on thread count.
pub fn stream_rng(seed: u64, stream: u64) -> ChaCha8Rng {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    rng.set_stream(stream);
    rng
}

/// Maps `f` over `0..n`, in parallel where threads exist; the output order is
/// always `0..n`, so seeded work gives identical results on every target.
pub fn map_indices<T: Send>(n: usize, f: impl Fn(usize) -> T + Sync + Send) -> Vec<T> {
    #[cfg(not(target_arch = "wasm32"))]
    {
        use rayon::prelude::*;
        (0..n).into_par_iter().map(f).collect()
    }
    #[cfg(target_arch = "wasm32")]
    {
        (0..n).map(f).collect()
    }
}
