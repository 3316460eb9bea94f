// A batch of creates in one transaction (the writer of `batch.rs` calls `create_batch`),
// written once and compiled for each backend: `sqlite.rs` and `postgres.rs` include this file
// after `ops.rs` and `ops_chain.rs`, whose helpers it uses.
// (No inner doc comment here: this file is `include!`d.)

/// How many times a batch (or a create in it) the database gave up on as a deadlock or a
/// serialization failure is run again before its creates are told it failed.
const TRANSIENT_TRIES: u32 = 3;

/// Runs `jobs` in one transaction and answers each of them once it committed; if it did not,
/// every one of them is told so (none was written). A batch, or a create in it, that failed
/// for a transient reason (a deadlock with another node's batch) is run again first: nothing
/// of it was written, so running it again is safe.
pub(crate) async fn create_batch(pool: Pool<Db>, mut jobs: Vec<CreateJob>) {
    for attempt in 1..=TRANSIENT_TRIES {
        let last = attempt == TRANSIENT_TRIES;
        match run_batch(&pool, &jobs).await {
            Ok(outcomes) => {
                let mut again = Vec::new();
                for (job, outcome) in jobs.into_iter().zip(outcomes) {
                    match outcome {
                        Err(e) if e.is_transient() && !last => again.push(job),
                        // A caller that went away (its client hung up) is not waiting.
                        outcome => drop(job.reply.send(outcome)),
                    }
                }
                if again.is_empty() {
                    return;
                }
                jobs = again;
            }
            Err(e) if e.is_transient() && !last => {
                tracing::info!(creates = jobs.len(), attempt, error = %e, "a batch of payment creates met a deadlock; running it again");
            }
            Err(e) => {
                tracing::warn!(creates = jobs.len(), error = %e, "a batch of payment creates did not commit");
                let reason = e.to_string();
                for job in jobs {
                    drop(job.reply.send(Err(StoreError::NotCommitted(reason.clone()))));
                }
                return;
            }
        }
    }
}

/// The creates that take the batch's fast path: no idempotency key (nothing to claim or
/// replay first) and no AlpPay client (no earlier payment to reuse an address from or to
/// supersede).
fn is_plain(job: &CreateJob) -> bool {
    job.idempotency.is_none() && job.payment.client_id.is_none()
}

/// Each job's outcome, or the error that fails the whole batch (the transaction did not
/// commit).
async fn run_batch(pool: &Pool<Db>, jobs: &[CreateJob]) -> Result<Vec<Result<CreateOutcome, StoreError>>, StoreError> {
    let mut tx: Tx = pool.begin_with(BEGIN).await?;
    if let [job] = jobs {
        // Alone in its transaction: its error rolls back only itself, no savepoint needed.
        return match create_in(&mut tx, job).await {
            Ok(outcome) => {
                tx.commit().await?;
                Ok(vec![Ok(outcome)])
            }
            Err(e) => {
                tx.rollback().await?;
                Ok(vec![Err(e)])
            }
        };
    }
    let mut outcomes: Vec<Option<Result<CreateOutcome, StoreError>>> = jobs.iter().map(|_| None).collect();
    let plain: Vec<usize> = (0..jobs.len()).filter(|&i| jobs.get(i).is_some_and(is_plain)).collect();
    if plain.len() > 1 {
        let chosen: Vec<&CreateJob> = plain.iter().filter_map(|&i| jobs.get(i)).collect();
        // First in the transaction, so a failure undoes only it, without the two round trips
        // of a savepoint on the common path.
        match create_bulk(&mut tx, &chosen).await {
            Ok(created) => {
                for (&i, outcome) in plain.iter().zip(created) {
                    if let Some(slot) = outcomes.get_mut(i) {
                        *slot = Some(Ok(outcome));
                    }
                }
            }
            // One of them failed (a slug clash, an address that does not derive): undo them
            // all and run each alone below, so that only the failing one fails.
            Err(_) => {
                tx.rollback().await?;
                tx = pool.begin_with(BEGIN).await?;
            }
        }
    }
    for (job, slot) in jobs.iter().zip(outcomes.iter_mut()) {
        if slot.is_none() {
            *slot = Some(create_alone(&mut tx, job).await?);
        }
    }
    tx.commit().await?;
    Ok(outcomes
        .into_iter()
        .map(|o| o.unwrap_or_else(|| Err(StoreError::NotCommitted("left out of its batch".into()))))
        .collect())
}

/// One create inside the batch, within a savepoint: its error undoes its own writes only.
/// The outer error is the batch's (the savepoint itself failed).
async fn create_alone(tx: &mut Tx, job: &CreateJob) -> Result<Result<CreateOutcome, StoreError>, StoreError> {
    execute(tx, "SAVEPOINT create_one").await?;
    match create_in(tx, job).await {
        Ok(outcome) => {
            execute(tx, "RELEASE SAVEPOINT create_one").await?;
            Ok(Ok(outcome))
        }
        Err(e) => {
            rollback_to(tx, "ROLLBACK TO SAVEPOINT create_one", "RELEASE SAVEPOINT create_one").await?;
            Ok(Err(e))
        }
    }
}

async fn execute(tx: &mut Tx, sql: &'static str) -> Result<(), StoreError> {
    sqlx::query(sql).execute(&mut **tx).await?;
    Ok(())
}

/// Undoes what was written since the savepoint, then drops it.
async fn rollback_to(tx: &mut Tx, rollback: &'static str, release: &'static str) -> Result<(), StoreError> {
    execute(tx, rollback).await?;
    execute(tx, release).await
}

/// Plain creates together: one counter bump per derivation key, then one insert per table
/// (addresses, payments, events, webhook deliveries) for all of them. The first error fails
/// them all; the caller then runs each alone.
async fn create_bulk(tx: &mut Tx, jobs: &[&CreateJob]) -> Result<Vec<CreateOutcome>, StoreError> {
    let mut payments: Vec<Payment> = jobs.iter().map(|j| j.payment.clone()).collect();
    // The jobs deriving from each key (devnet's EVM and Tron formats share one counter, so a
    // key's jobs may differ in family and derivation: each uses its own plan).
    let mut by_key: Vec<(&str, Vec<usize>)> = Vec::new();
    for (i, job) in jobs.iter().enumerate() {
        if let Some(plan) = &job.address {
            match by_key.iter_mut().find(|(k, _)| *k == plan.key_id) {
                Some((_, members)) => members.push(i),
                None => by_key.push((&plan.key_id, vec![i])),
            }
        }
    }
    // Counters locked in one order by every batch (on every node): two batches never wait on
    // each other's counters in a cycle.
    by_key.sort_by(|a, b| a.0.cmp(b.0));
    let mut records = Vec::new();
    for (key_id, members) in &by_key {
        let n = i64::try_from(members.len()).map_err(|_| StoreError::Corrupt("batch size".into()))?;
        let first = take_address_indexes(&mut **tx, key_id, n).await?;
        for (index, &i) in (first..).zip(members) {
            let (Some(job), Some(payment)) = (jobs.get(i), payments.get_mut(i)) else { continue };
            let Some(plan) = &job.address else { continue };
            let address = (plan.derive)(index).map_err(StoreError::Address)?;
            records.push((
                NewDepositAddress {
                    address: address.clone(),
                    family: plan.family.clone(),
                    key_id: plan.key_id.clone(),
                    index,
                    merchant_id: payment.merchant_id.clone(),
                    payment_id: Some(payment.id.clone()),
                    client_id: None,
                },
                ms(payment.created_at),
            ));
            if let Some(asset) = payment.asset.as_mut() {
                asset.address = Some(address);
            }
        }
    }
    let mut built = Vec::with_capacity(jobs.len());
    for (job, payment) in jobs.iter().zip(&payments) {
        built.push(build_events(payment, &job.events)?);
    }
    let groups: Vec<(&str, &[Event])> = built.iter().map(|(text, events)| (text.as_str(), events.as_slice())).collect();
    insert_created(tx, &records, &payments, &groups).await?;
    let changes: Vec<(Option<&Payment>, &Payment, &[Event])> =
        payments.iter().zip(&built).map(|(p, (_, events))| (None, p, events.as_slice())).collect();
    webhooks::fan_out_many(tx, &changes).await?;
    let mut outcomes = Vec::with_capacity(jobs.len());
    for ((job, payment), (_, events)) in jobs.iter().zip(&payments).zip(built) {
        outcomes.push(CreateOutcome::Created { response: (job.render)(payment)?, events });
    }
    Ok(outcomes)
}

