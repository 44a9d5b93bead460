//! The order in which an epoch visits the training examples.

use highway_rng::SplitMix64;

/// The order of epoch `epoch` (1-based) over `n` examples: a fresh shuffle of `0..n` by a
/// generator seeded with (seed, epoch), so an epoch's order depends on nothing else: not on
/// the epochs before it, nor on whether the run was stopped and resumed in between.
pub(super) fn epoch_order(seed: u64, epoch: usize, n: usize) -> Vec<usize> {
    let mut order: Vec<usize> = (0..n).collect();
    SplitMix64::new(seed.wrapping_mul(0x9E37_79B9).wrapping_add(epoch as u64)).shuffle(&mut order);
    order
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_epochs_order_is_a_function_of_seed_and_epoch_alone() {
        let n = 1000;
        // Epoch 5 alone, and epoch 5 after epochs 1–4 were drawn: the same.
        let alone = epoch_order(7, 5, n);
        let after: Vec<Vec<usize>> = (1..=5).map(|e| epoch_order(7, e, n)).collect();
        assert_eq!(after[4], alone);
        // A permutation, different per epoch and per seed.
        let mut sorted = alone.clone();
        sorted.sort_unstable();
        assert_eq!(sorted, (0..n).collect::<Vec<_>>());
        assert_ne!(after[3], alone);
        assert_ne!(epoch_order(8, 5, n), alone);
        // Pinned (computed by an independent implementation of SplitMix64 and Fisher–Yates).
        assert_eq!(epoch_order(0, 1, 10), [9, 0, 1, 4, 8, 2, 3, 7, 6, 5]);
        assert_eq!(epoch_order(3, 2, 10), [8, 9, 1, 0, 6, 2, 3, 5, 4, 7]);
    }
}
