//! The seeded pseudo-random generator the synthetic population derives from: SplitMix64
//! seeded with SHA-256 of the seed text, so a seed gives the same sequence on every
//! machine and build, with no crate beyond `ring`.

/// A SplitMix64 generator (Steele, Lea, Flood 2014): tiny, fast and statistically fine
/// for test data; not for anything secret.
#[derive(Debug, Clone)]
pub struct Rng {
    state: u64,
}

impl Rng {
    /// Creates a generator for one named stream of a seed (e.g. "persons", "legal-entities"),
    /// so adding draws to one stream does not shift the others.
    pub fn new(seed: &str, stream: &str) -> Rng {
        let mut context = ring::digest::Context::new(&ring::digest::SHA256);
        context.update(seed.as_bytes());
        context.update(&[0]);
        context.update(stream.as_bytes());
        let digest = context.finish();
        let mut state = [0u8; 8];
        state.copy_from_slice(&digest.as_ref()[..8]);
        Rng {
            state: u64::from_le_bytes(state),
        }
    }

    /// Returns the next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        self.state = self.state.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.state;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Returns a number in `0..bound` (0 when `bound` is 0), by multiply-shift, which has
    /// no modulo bias worth noticing for the small bounds used here.
    pub fn below(&mut self, bound: u64) -> u64 {
        ((u128::from(self.next_u64()) * u128::from(bound)) >> 64) as u64
    }

    /// Returns an index in `0..len` (0 when `len` is 0).
    pub fn index(&mut self, len: usize) -> usize {
        usize::try_from(self.below(len as u64)).unwrap_or(0)
    }

    /// Returns a number in `low..=high` (`low` when `high < low`).
    pub fn between(&mut self, low: i64, high: i64) -> i64 {
        if high <= low {
            return low;
        }
        let span = high.abs_diff(low).saturating_add(1);
        low.saturating_add_unsigned(self.below(span))
    }

    /// Returns true with probability `per_mille / 1000`.
    pub fn chance(&mut self, per_mille: u32) -> bool {
        self.below(1000) < u64::from(per_mille)
    }

    /// Picks an element of a non-empty slice; `None` for an empty one.
    pub fn pick<'a, T>(&mut self, items: &'a [T]) -> Option<&'a T> {
        if items.is_empty() {
            return None;
        }
        items.get(self.index(items.len()))
    }

    /// Picks an index by weight; 0 when every weight is 0.
    pub fn weighted(&mut self, weights: impl IntoIterator<Item = u32> + Clone) -> usize {
        let total: u64 = weights.clone().into_iter().map(u64::from).sum();
        let mut draw = self.below(total);
        for (i, weight) in weights.into_iter().enumerate() {
            let weight = u64::from(weight);
            if draw < weight {
                return i;
            }
            draw -= weight;
        }
        0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_same_seed_and_stream_give_the_same_sequence() {
        let mut a = Rng::new("egov-stack", "persons");
        let mut b = Rng::new("egov-stack", "persons");
        let first: Vec<u64> = (0..8).map(|_| a.next_u64()).collect();
        let second: Vec<u64> = (0..8).map(|_| b.next_u64()).collect();
        assert_eq!(first, second);
        let mut other = Rng::new("egov-stack", "legal-entities");
        assert_ne!(first[0], other.next_u64());
    }

    #[test]
    fn draws_stay_in_their_ranges() {
        let mut rng = Rng::new("x", "y");
        for _ in 0..10_000 {
            assert!(rng.below(7) < 7);
            let n = rng.between(-3, 3);
            assert!((-3..=3).contains(&n));
        }
        assert_eq!(rng.below(0), 0);
        assert_eq!(rng.between(5, 5), 5);
        assert_eq!(rng.pick::<u8>(&[]), None);
    }

    #[test]
    fn weighted_picks_follow_the_weights() {
        let mut rng = Rng::new("x", "weights");
        let mut counts = [0u32; 3];
        for _ in 0..30_000 {
            counts[rng.weighted([1u32, 0, 2])] += 1;
        }
        assert_eq!(counts[1], 0);
        assert!(counts[2] > counts[0] * 3 / 2, "{counts:?}");
    }
}
