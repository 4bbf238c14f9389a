//! Ed25519 signature values verified in batches: a gateway verifies two
//! signatures per exchange with many exchanges in flight, and one batch
//! equation over n signatures costs about half of n single verifications.
//!
//! A caller with no other verification in progress verifies inline, as a
//! batch of one would (no hand-off latency when idle, and sequential callers
//! behave as without batching). Concurrent callers hand their signature to
//! one verification thread and wait for its answer. The thread takes
//! whatever has queued up while it was busy (no
//! timer: an idle verifier answers a lone signature at once, a busy one
//! gathers larger batches), checks them with one batch equation (the one of
//! ed25519-dalek's `verify_batch`, whose feature would rebuild half the
//! workspace's dependencies for a few lines of curve arithmetic), and when
//! that fails checks each one singly, so every caller gets its own answer
//! from `verify_strict` exactly as without batching.
//!
//! Agreement with `verify_strict`: the batch equation accepts exactly the
//! signatures `verify_strict` accepts, except ones whose `R` carries a small
//! torsion component or is of small order, which `verify_strict` refuses and
//! a random linear combination may let through. Only the key's holder can
//! make such a signature (it needs `s = r + k·a`), so it proves nothing the
//! holder could not sign anyway, and no one else can turn a valid signature
//! into one (changing `R` changes `k`). Keys that carry a torsion component
//! themselves never take the batch path (see [`batchable`]).

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{OnceLock, mpsc};

use curve25519_dalek::constants::ED25519_BASEPOINT_POINT;
use curve25519_dalek::edwards::{CompressedEdwardsY, EdwardsPoint};
use curve25519_dalek::scalar::Scalar;
use curve25519_dalek::traits::{IsIdentity, VartimeMultiscalarMul};
use ed25519_dalek::{Signature, VerifyingKey};
use ring::digest;
use ring::rand::{SecureRandom, SystemRandom};
use tokio::sync::oneshot;

/// The most signatures one batch equation takes: beyond it the gain per
/// signature flattens while the callers of the batch wait longer.
const MAX_BATCH: usize = 64;

/// Whether signatures under this key may be verified in a batch: only keys in
/// the prime-order subgroup, where the batch and the strict equation agree.
pub(crate) fn batchable(key: &VerifyingKey) -> bool {
    !key.is_weak() && key.to_edwards().is_torsion_free()
}

/// One signature waiting for its answer.
struct Job {
    key: VerifyingKey,
    message: Vec<u8>,
    signature: Signature,
    answer: oneshot::Sender<bool>,
}

/// Hands Ed25519 signatures to a verification thread started on first use.
#[derive(Debug, Default)]
pub(crate) struct Ed25519Batcher {
    // `None` once the thread could not be started: callers verify inline.
    jobs: OnceLock<Option<mpsc::Sender<Job>>>,
    /// Verifications in progress, inline or queued.
    in_flight: AtomicUsize,
}

/// Counts one verification in progress until dropped (also when the caller's
/// future is dropped mid-wait).
struct InFlight<'a>(&'a AtomicUsize);

impl<'a> InFlight<'a> {
    /// Enters and returns how many were in progress before.
    fn enter(count: &'a AtomicUsize) -> (InFlight<'a>, usize) {
        let before = count.fetch_add(1, Ordering::AcqRel);
        (InFlight(count), before)
    }
}

impl Drop for InFlight<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::AcqRel);
    }
}

impl Ed25519Batcher {
    /// Returns whether `signature` over `message` verifies strictly under `key`.
    pub(crate) async fn verify(
        &self,
        key: &VerifyingKey,
        message: Vec<u8>,
        signature: Signature,
    ) -> bool {
        let (_in_flight, before) = InFlight::enter(&self.in_flight);
        if before == 0 {
            return key.verify_strict(&message, &signature).is_ok();
        }
        let Some(jobs) = self.jobs.get_or_init(start) else {
            return key.verify_strict(&message, &signature).is_ok();
        };
        let (answer, answered) = oneshot::channel();
        let job = Job {
            key: *key,
            message: message.clone(),
            signature,
            answer,
        };
        if jobs.send(job).is_ok()
            && let Ok(valid) = answered.await
        {
            return valid;
        }
        // The thread is gone (it panicked): answer here instead.
        key.verify_strict(&message, &signature).is_ok()
    }
}

/// Starts the verification thread; it stops when the batcher is dropped.
fn start() -> Option<mpsc::Sender<Job>> {
    let (jobs, queue) = mpsc::channel::<Job>();
    std::thread::Builder::new()
        .name("ed25519-batch".into())
        .spawn(move || run(&queue))
        .map_err(|err| tracing::warn!(error = %err, "no Ed25519 batch thread; verifying inline"))
        .ok()?;
    Some(jobs)
}

fn run(queue: &mpsc::Receiver<Job>) {
    let mut batch = Vec::with_capacity(MAX_BATCH);
    while let Ok(first) = queue.recv() {
        batch.push(first);
        while batch.len() < MAX_BATCH {
            match queue.try_recv() {
                Ok(job) => batch.push(job),
                Err(_) => break,
            }
        }
        answer(&mut batch);
    }
}

/// Verifies and answers every job of the batch, emptying it.
fn answer(batch: &mut Vec<Job>) {
    let all_valid = batch.len() > 1 && batch_equation_holds(batch);
    for job in batch.drain(..) {
        // A failed batch names no culprit: each signature is checked alone.
        let valid = all_valid || job.key.verify_strict(&job.message, &job.signature).is_ok();
        // A caller that stopped waiting needs no answer.
        let _ = job.answer.send(valid);
    }
}

/// Checks `∑ zᵢ·Rᵢ + ∑ zᵢ·kᵢ·Aᵢ − (∑ zᵢ·sᵢ)·B = 0` with fresh random 128-bit
/// `zᵢ` and `kᵢ = SHA-512(Rᵢ ‖ Aᵢ ‖ Mᵢ)`: the sum of the single equations
/// `sᵢ·B = Rᵢ + kᵢ·Aᵢ`, which a forged signature fails but with probability
/// 2⁻¹²⁸. False also when any `s` is not canonical or any `R` does not
/// decompress, which the single checks then name.
fn batch_equation_holds(batch: &[Job]) -> bool {
    let mut random = vec![0u8; 16 * batch.len()];
    if SystemRandom::new().fill(&mut random).is_err() {
        return false;
    }
    let mut scalars = Vec::with_capacity(2 * batch.len() + 1);
    let mut points = Vec::with_capacity(2 * batch.len() + 1);
    // The basepoint's coefficient is filled in once every s is summed.
    scalars.push(Scalar::ZERO);
    points.push(ED25519_BASEPOINT_POINT);
    let mut basepoint = Scalar::ZERO;
    // Signatures under one key share its term, ∑ zᵢ·kᵢ·A = (∑ zᵢ·kᵢ)·A: a
    // gateway's batch holds a few senders' and targets' keys, so the sum
    // takes about n + a few points instead of 2n + 1.
    let mut keys: Vec<(&VerifyingKey, Scalar)> = Vec::new();
    for (job, z) in batch.iter().zip(random.chunks_exact(16)) {
        let r_bytes = job.signature.r_bytes();
        let s = Scalar::from_canonical_bytes(*job.signature.s_bytes());
        let (Some(s), Some(r)) = (
            Option::<Scalar>::from(s),
            CompressedEdwardsY(*r_bytes).decompress(),
        ) else {
            return false;
        };
        let mut hash = digest::Context::new(&digest::SHA512);
        hash.update(r_bytes);
        hash.update(job.key.as_bytes());
        hash.update(&job.message);
        let Ok(wide) = <[u8; 64]>::try_from(hash.finish().as_ref()) else {
            return false;
        };
        let k = Scalar::from_bytes_mod_order_wide(&wide);
        let mut z_bytes = [0u8; 32];
        z_bytes[..16].copy_from_slice(z);
        let z = Scalar::from_bytes_mod_order(z_bytes);
        basepoint += z * s;
        scalars.push(z);
        points.push(r);
        match keys.iter_mut().find(|(key, _)| *key == &job.key) {
            Some((_, sum)) => *sum += z * k,
            None => keys.push((&job.key, z * k)),
        }
    }
    scalars[0] = -basepoint;
    for (key, sum) in keys {
        scalars.push(sum);
        points.push(key.to_edwards());
    }
    EdwardsPoint::vartime_multiscalar_mul(scalars, points).is_identity()
}

#[cfg(test)]
mod tests {
    use ed25519_dalek::{Signer as _, SigningKey};

    use super::*;

    fn job(seed: u8, message: &[u8]) -> (Job, oneshot::Receiver<bool>) {
        let key = SigningKey::from_bytes(&[seed; 32]);
        let (answer, answered) = oneshot::channel();
        let job = Job {
            key: key.verifying_key(),
            message: message.to_vec(),
            signature: key.sign(message),
            answer,
        };
        (job, answered)
    }

    /// Checks that the batch's equation fails, answers it, and returns each caller's verdict.
    fn answered_after_failed_equation(
        mut batch: Vec<Job>,
        answers: &mut [oneshot::Receiver<bool>],
    ) -> Vec<bool> {
        assert!(!batch_equation_holds(&batch));
        answer(&mut batch);
        answers
            .iter_mut()
            .map(|answered| answered.try_recv().unwrap())
            .collect()
    }

    #[test]
    fn a_batch_of_valid_signatures_verifies_as_one_equation() {
        let jobs: Vec<Job> = (1..=8).map(|seed| job(seed, &[seed; 81]).0).collect();
        assert!(batch_equation_holds(&jobs));
    }

    #[test]
    fn one_bad_signature_fails_the_equation_and_only_its_caller_hears_so() {
        let (mut batch, mut answers): (Vec<Job>, Vec<oneshot::Receiver<bool>>) =
            (1..=8).map(|seed| job(seed, &[seed; 81])).unzip();
        // A signature over other bytes than the job's message.
        batch[3].signature = SigningKey::from_bytes(&[4; 32]).sign(b"other bytes");
        assert_eq!(
            answered_after_failed_equation(batch, &mut answers),
            [true, true, true, false, true, true, true, true]
        );
    }

    #[test]
    fn signatures_under_shared_keys_verify_as_one_equation() {
        // Two keys, as a gateway's batch of senders' requests and targets' answers.
        let jobs: Vec<Job> = (0..12u8)
            .map(|index| job(1 + index % 2, &[index; 81]).0)
            .collect();
        assert!(batch_equation_holds(&jobs));
    }

    #[test]
    fn one_bad_signature_under_a_shared_key_fails_the_equation() {
        let (mut batch, mut answers): (Vec<Job>, Vec<oneshot::Receiver<bool>>) = (0..6u8)
            .map(|index| job(1 + index % 2, &[index; 81]))
            .unzip();
        // Signed by the right key, but over other bytes than the job's message.
        batch[2].signature = SigningKey::from_bytes(&[1; 32]).sign(b"other bytes");
        assert_eq!(
            answered_after_failed_equation(batch, &mut answers),
            [true, true, false, true, true, true]
        );
    }

    #[test]
    fn a_non_canonical_s_fails_the_equation() {
        let (mut bad, _) = job(1, b"message");
        let mut bytes = bad.signature.to_bytes();
        bytes[63] |= 0xf0;
        bad.signature = Signature::from_bytes(&bytes);
        let (good, _) = job(2, b"message");
        assert!(!batch_equation_holds(&[good, bad]));
    }

    async fn verdicts(batcher: &Ed25519Batcher) -> (bool, bool) {
        let key = SigningKey::from_bytes(&[7; 32]);
        let good = key.sign(b"signed");
        let valid = batcher
            .verify(&key.verifying_key(), b"signed".to_vec(), good)
            .await;
        let changed = batcher
            .verify(&key.verifying_key(), b"changed".to_vec(), good)
            .await;
        (valid, changed)
    }

    #[tokio::test]
    async fn a_lone_caller_is_answered_inline() {
        let batcher = Ed25519Batcher::default();
        assert_eq!(verdicts(&batcher).await, (true, false));
        assert!(batcher.jobs.get().is_none(), "no thread for a lone caller");
    }

    #[tokio::test]
    async fn concurrent_callers_are_answered_by_the_thread() {
        let batcher = Ed25519Batcher::default();
        // Another verification in progress: these go to the thread.
        let (_other, _) = InFlight::enter(&batcher.in_flight);
        assert_eq!(verdicts(&batcher).await, (true, false));
        assert!(batcher.jobs.get().is_some_and(Option::is_some));
        assert!(batchable(&SigningKey::from_bytes(&[7; 32]).verifying_key()));
    }
}
