// The chain engine's queries, written once and compiled for each backend: `sqlite.rs` and
// `postgres.rs` include this file right after `ops.rs`, so it shares that file's imports,
// `Db`, `BEGIN`, `LOCK_ROW`, `Tx` and payment helpers (`update_payment`, `insert_events`).
// (No inner doc comment here: this file is `include!`d.)

use crate::chain::{
    from_db, to_db, BlockRef, ChainChange, DevnetTransfer, NewDepositAddress, NewTransfer, ScanCommit,
    StoredTransfer, TransferRow, WatchScope, WatchedPayment,
};

const TRANSFER_COLUMNS: &str = "network, tx_hash, log_index, token, from_address, to_address, amount, \
     block_number, block_hash, status, payment_id, block_time, created_at, note";

// ---- deposit addresses ----

/// Gives a payment being created its address in the create's own transaction: an AlpPay
/// client's first address when it has one in this family, else the next index of the plan's
/// key, derived and recorded (`UNIQUE (address)` and `UNIQUE (key_id, derivation_index)`
/// keep two payments from ever sharing one).
async fn assign_address(tx: &mut Tx, plan: &AddressPlan, payment: &Payment) -> Result<String, StoreError> {
    if let Some(client) = &payment.client_id {
        if let Some(address) = first_client_address(&mut **tx, &payment.merchant_id, &plan.family, client).await? {
            return Ok(address);
        }
    }
    let index = next_address_index(&mut **tx, &plan.key_id).await?;
    let address = (plan.derive)(index).map_err(StoreError::Address)?;
    let record = NewDepositAddress {
        address: address.clone(),
        family: plan.family.clone(),
        key_id: plan.key_id.clone(),
        index,
        merchant_id: payment.merchant_id.clone(),
        payment_id: Some(payment.id.clone()),
        client_id: payment.client_id.clone(),
    };
    record_deposit_address(&mut **tx, &record, payment.created_at).await?;
    Ok(address)
}

/// The address of a payment whose asset was just chosen: the one it already has when that one
/// is of the plan's family (an EVM address receives on every EVM network), else the plan's
/// next. An old address stays recorded against the payment, so nothing derived is reused.
async fn chosen_asset_address(
    tx: &mut Tx,
    plan: &AddressPlan,
    before: &Payment,
    payment: &Payment,
) -> Result<String, StoreError> {
    if let Some(old) = before.asset.as_ref().and_then(|a| a.address.clone()) {
        if address_family(&mut **tx, &old).await?.as_deref() == Some(plan.family.as_str()) {
            return Ok(old);
        }
    }
    assign_address(tx, plan, payment).await
}

async fn address_family<'e, E: sqlx::Executor<'e, Database = Db>>(
    e: E,
    address: &str,
) -> Result<Option<String>, StoreError> {
    let row: Option<(String,)> = sqlx::query_as("SELECT family FROM deposit_addresses WHERE address = $1")
        .bind(address)
        .fetch_optional(e)
        .await?;
    Ok(row.map(|(f,)| f))
}

/// Takes the next derivation index of `key_id`: one statement, so the bump is atomic on both
/// engines, in or out of a transaction.
async fn next_address_index<'e, E: sqlx::Executor<'e, Database = Db>>(e: E, key_id: &str) -> Result<u64, StoreError> {
    take_address_indexes(e, key_id, 1).await
}

/// Takes the next `n` derivation indexes of `key_id` in one statement; the first is returned.
async fn take_address_indexes<'e, E: sqlx::Executor<'e, Database = Db>>(
    e: E,
    key_id: &str,
    n: i64,
) -> Result<u64, StoreError> {
    let (next,): (i64,) = sqlx::query_as(
        "INSERT INTO address_counters (key_id, next_index) VALUES ($1, $2) ON CONFLICT (key_id) \
         DO UPDATE SET next_index = address_counters.next_index + $2 RETURNING next_index",
    )
    .bind(key_id)
    .bind(n)
    .fetch_one(e)
    .await?;
    from_db("address index", next - n)
}

async fn record_deposit_address<'e, E: sqlx::Executor<'e, Database = Db>>(
    e: E,
    a: &NewDepositAddress,
    now: DateTime<Utc>,
) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO deposit_addresses (address, family, key_id, derivation_index, merchant_id, payment_id, \
         client_id, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
    )
    .bind(&a.address)
    .bind(&a.family)
    .bind(&a.key_id)
    .bind(to_db("address index", a.index)?)
    .bind(a.merchant_id.to_string())
    .bind(a.payment_id.as_ref().map(ToString::to_string))
    .bind(&a.client_id)
    .bind(ms(now))
    .execute(e)
    .await?;
    Ok(())
}

/// The first address an AlpPay client was given in a family (its later payments reuse it).
async fn first_client_address<'e, E: sqlx::Executor<'e, Database = Db>>(
    e: E,
    merchant: &MerchantId,
    family: &str,
    client_id: &str,
) -> Result<Option<String>, StoreError> {
    let row: Option<(String,)> = sqlx::query_as(
        "SELECT address FROM deposit_addresses WHERE merchant_id = $1 AND family = $2 AND client_id = $3 \
         ORDER BY created_at, derivation_index LIMIT 1",
    )
    .bind(merchant.to_string())
    .bind(family)
    .bind(client_id)
    .fetch_optional(e)
    .await?;
    Ok(row.map(|(a,)| a))
}

pub(crate) async fn allocate_address_index(pool: &Pool<Db>, key_id: &str) -> Result<u64, StoreError> {
    next_address_index(pool, key_id).await
}

pub(crate) async fn insert_deposit_address(
    pool: &Pool<Db>,
    a: &NewDepositAddress,
    now: DateTime<Utc>,
) -> Result<(), StoreError> {
    record_deposit_address(pool, a, now).await
}

pub(crate) async fn get_deposit_address(
    pool: &Pool<Db>,
    address: &str,
) -> Result<Option<NewDepositAddress>, StoreError> {
    type Row = (String, String, String, i64, String, Option<String>, Option<String>);
    let row: Option<Row> = sqlx::query_as(
        "SELECT address, family, key_id, derivation_index, merchant_id, payment_id, client_id \
         FROM deposit_addresses WHERE address = $1",
    )
    .bind(address)
    .fetch_optional(pool)
    .await?;
    row.map(|(address, family, key_id, index, merchant, payment, client_id)| {
        Ok(NewDepositAddress {
            address,
            family,
            key_id,
            index: from_db("address index", index)?,
            merchant_id: merchant.parse().map_err(|_| crate::rows::corrupt("merchant id", &merchant))?,
            payment_id: payment
                .as_deref()
                .map(|p| p.parse().map_err(|_| crate::rows::corrupt("payment id", p)))
                .transpose()?,
            client_id,
        })
    })
    .transpose()
}

pub(crate) async fn watched_payments(
    pool: &Pool<Db>,
    scope: &WatchScope,
    expiring_from: DateTime<Utc>,
) -> Result<Vec<WatchedPayment>, StoreError> {
    // `payments_watch_live` / `payments_watch_test` serve these: the cost is the payments
    // still inside their window, whatever the table holds.
    let select = "SELECT id, deposit_address, token, expires_at FROM payments WHERE deposit_address IS NOT NULL \
                  AND token IS NOT NULL";
    let rows: Vec<(String, String, String, i64)> = match scope {
        WatchScope::Test => {
            sqlx::query_as(&format!(
                "{select} AND mode = 'test' AND expires_at >= $1 ORDER BY created_at, id"
            ))
            .bind(ms(expiring_from))
            .fetch_all(pool)
            .await?
        }
        WatchScope::Live(network) => {
            sqlx::query_as(&format!(
                "{select} AND mode = 'live' AND network = $1 AND expires_at >= $2 ORDER BY created_at, id"
            ))
            .bind(network)
            .bind(ms(expiring_from))
            .fetch_all(pool)
            .await?
        }
    };
    rows.into_iter().map(|(id, address, token, expires_at)| watched(id, address, token, expires_at)).collect()
}

pub(crate) async fn count_watched_payments(
    pool: &Pool<Db>,
    scope: &WatchScope,
    expiring_from: DateTime<Utc>,
) -> Result<i64, StoreError> {
    // The same conditions as `watched_payments`, so the same partial indexes serve it.
    let select = "SELECT COUNT(*) FROM payments WHERE deposit_address IS NOT NULL AND token IS NOT NULL";
    let (n,): (i64,) = match scope {
        WatchScope::Test => {
            sqlx::query_as(&format!("{select} AND mode = 'test' AND expires_at >= $1"))
                .bind(ms(expiring_from))
                .fetch_one(pool)
                .await?
        }
        WatchScope::Live(network) => {
            sqlx::query_as(&format!("{select} AND mode = 'live' AND network = $1 AND expires_at >= $2"))
                .bind(network)
                .bind(ms(expiring_from))
                .fetch_one(pool)
                .await?
        }
    };
    Ok(n)
}

fn watched(id: String, address: String, token: String, expires_at: i64) -> Result<WatchedPayment, StoreError> {
    Ok(WatchedPayment {
        payment_id: id.parse().map_err(|_| crate::rows::corrupt("payment id", &id))?,
        address,
        token,
        expires_at: crate::rows::from_ms(expires_at)?,
    })
}

pub(crate) async fn payments_at_addresses(
    pool: &Pool<Db>,
    scope: &WatchScope,
    addresses: &[String],
) -> Result<Vec<(WatchedPayment, String)>, StoreError> {
    let mode = match scope {
        WatchScope::Test => "test",
        WatchScope::Live(_) => "live",
    };
    // Keyed by address, rows oldest first: the newest payment on the scope's network wins,
    // else the newest on any network (a reused client address may hold both).
    let this_network = match scope {
        WatchScope::Live(network) => Some(network.as_str()),
        WatchScope::Test => None,
    };
    let ours = |network: &str| this_network.is_none_or(|n| n == network);
    let mut out: std::collections::HashMap<String, (WatchedPayment, String)> = std::collections::HashMap::new();
    // Chunks keep each statement well under SQLite's limit on bound parameters.
    for chunk in addresses.chunks(500) {
        let mut q: QueryBuilder<Db> = QueryBuilder::new(
            "SELECT id, deposit_address, token, expires_at, network FROM payments WHERE token IS NOT NULL AND mode = ",
        );
        q.push_bind(mode).push(" AND deposit_address IN (");
        let mut list = q.separated(", ");
        for a in chunk {
            list.push_bind(a);
        }
        list.push_unseparated(") ORDER BY created_at, id");
        let rows: Vec<(String, String, String, i64, String)> = q.build_query_as().fetch_all(pool).await?;
        for (id, address, token, expires_at, network) in rows {
            if out.get(&address).is_some_and(|(_, kept)| ours(kept) && !ours(&network)) {
                continue;
            }
            out.insert(address.clone(), (watched(id, address, token, expires_at)?, network));
        }
    }
    Ok(out.into_values().collect())
}

// ---- cursors and blocks ----

pub(crate) async fn chain_cursor(pool: &Pool<Db>, network: &str) -> Result<Option<BlockRef>, StoreError> {
    let row: Option<(i64, String)> =
        sqlx::query_as("SELECT block_number, block_hash FROM chain_cursors WHERE network = $1")
            .bind(network)
            .fetch_optional(pool)
            .await?;
    row.map(|(n, hash)| Ok(BlockRef { number: from_db("block number", n)?, hash })).transpose()
}

pub(crate) async fn chain_cursor_time(pool: &Pool<Db>, network: &str) -> Result<Option<DateTime<Utc>>, StoreError> {
    let row: Option<(Option<i64>,)> = sqlx::query_as("SELECT block_time FROM chain_cursors WHERE network = $1")
        .bind(network)
        .fetch_optional(pool)
        .await?;
    row.and_then(|(t,)| t).map(crate::rows::from_ms).transpose()
}

pub(crate) async fn recent_blocks(
    pool: &Pool<Db>,
    network: &str,
    limit: u32,
) -> Result<Vec<BlockRef>, StoreError> {
    let rows: Vec<(i64, String)> = sqlx::query_as(
        "SELECT block_number, block_hash FROM chain_blocks WHERE network = $1 \
         ORDER BY block_number DESC LIMIT $2",
    )
    .bind(network)
    .bind(i64::from(limit))
    .fetch_all(pool)
    .await?;
    rows.into_iter().map(|(n, hash)| Ok(BlockRef { number: from_db("block number", n)?, hash })).collect()
}

/// Moves the cursor from `expected` to `to`, or fails with `Conflict("chain_cursor")` when
/// another scanner moved it first. Runs first in its transaction, so the winner holds the
/// row and a concurrent loser waits, then misses.
async fn move_cursor(
    tx: &mut Tx,
    network: &str,
    expected: Option<&BlockRef>,
    to: &BlockRef,
    to_time: DateTime<Utc>,
    now: DateTime<Utc>,
) -> Result<(), StoreError> {
    let n = match expected {
        None => sqlx::query(
            "INSERT INTO chain_cursors (network, block_number, block_hash, updated_at, block_time) \
             VALUES ($1, $2, $3, $4, $5) ON CONFLICT (network) DO NOTHING",
        )
        .bind(network)
        .bind(to_db("block number", to.number)?)
        .bind(&to.hash)
        .bind(ms(now))
        .bind(ms(to_time))
        .execute(&mut **tx)
        .await?
        .rows_affected(),
        Some(e) => sqlx::query(
            "UPDATE chain_cursors SET block_number = $2, block_hash = $3, updated_at = $4, block_time = $7 \
             WHERE network = $1 AND block_number = $5 AND block_hash = $6",
        )
        .bind(network)
        .bind(to_db("block number", to.number)?)
        .bind(&to.hash)
        .bind(ms(now))
        .bind(to_db("block number", e.number)?)
        .bind(&e.hash)
        .bind(ms(to_time))
        .execute(&mut **tx)
        .await?
        .rows_affected(),
    };
    if n == 0 {
        return Err(StoreError::Conflict("chain_cursor"));
    }
    Ok(())
}

// ---- transfers and the payments they credit ----

/// Records one transfer; `true` when it is new, or re-mined after its block was orphaned
/// (credited again under the same key, never twice).
async fn record_transfer(tx: &mut Tx, t: &NewTransfer, now: DateTime<Utc>) -> Result<bool, StoreError> {
    let inserted = sqlx::query(&format!(
        "INSERT INTO chain_transfers ({TRANSFER_COLUMNS}, updated_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, 'seen', $10, $12, $11, $13, $11) \
         ON CONFLICT (network, tx_hash, log_index) DO NOTHING"
    ))
    .bind(&t.network)
    .bind(&t.tx_hash)
    .bind(to_db("log index", t.log_index)?)
    .bind(&t.token)
    .bind(&t.from)
    .bind(&t.to)
    .bind(t.amount.to_string())
    .bind(to_db("block number", t.block.number)?)
    .bind(&t.block.hash)
    .bind(t.payment_id.as_ref().map(ToString::to_string))
    .bind(ms(now))
    .bind(ms(t.block_time))
    .bind(&t.note)
    .execute(&mut **tx)
    .await?
    .rows_affected();
    if inserted > 0 {
        return Ok(true);
    }
    let remined = sqlx::query(
        "UPDATE chain_transfers SET block_number = $4, block_hash = $5, status = 'seen', payment_id = $6, \
         updated_at = $7, block_time = $8, note = $9 \
         WHERE network = $1 AND tx_hash = $2 AND log_index = $3 AND status = 'orphaned'",
    )
    .bind(&t.network)
    .bind(&t.tx_hash)
    .bind(to_db("log index", t.log_index)?)
    .bind(to_db("block number", t.block.number)?)
    .bind(&t.block.hash)
    .bind(t.payment_id.as_ref().map(ToString::to_string))
    .bind(ms(now))
    .bind(ms(t.block_time))
    .bind(&t.note)
    .execute(&mut **tx)
    .await?
    .rows_affected();
    Ok(remined > 0)
}

/// Recomputes a payment's funds from its live transfers at `head`, marks the deep enough ones
/// confirmed, and applies the totals through the state machine, writing the payment and its
/// events. A payment without an asset is left alone.
async fn recompute_payment(
    tx: &mut Tx,
    id: &str,
    network: &str,
    head: u64,
    finalized: Option<u64>,
    now: DateTime<Utc>,
) -> Result<Vec<Event>, StoreError> {
    let sql = format!("SELECT {PAYMENT_COLUMNS} FROM payments WHERE id = $1{LOCK_ROW}");
    let row: Option<PaymentRow> = sqlx::query_as(&sql).bind(id).fetch_optional(&mut **tx).await?;
    let Some(row) = row else { return Ok(Vec::new()) };
    let mut payment = Payment::try_from(row)?;
    let Some(asset) = &payment.asset else { return Ok(Vec::new()) };
    let depth = u64::from(asset.confirmations.max(1));
    let head = payd_core::chain::counting_head(head, finalized, depth);

    let rows: Vec<(String, i64, String, i64, Option<i64>)> = sqlx::query_as(
        "SELECT tx_hash, log_index, amount, block_number, block_time FROM chain_transfers \
         WHERE payment_id = $1 AND network = $2 AND status <> 'orphaned' ORDER BY block_number, log_index, tx_hash",
    )
    .bind(id)
    .bind(network)
    .fetch_all(&mut **tx)
    .await?;
    let mut credits = Vec::with_capacity(rows.len());
    for (_, _, amount, block, block_time) in &rows {
        credits.push(payd_core::chain::Credit {
            amount: amount.parse().map_err(|_| crate::rows::corrupt("amount", amount))?,
            block: from_db("block number", *block)?,
            block_time: block_time.map(crate::rows::from_ms).transpose()?,
        });
    }
    let tally = payd_core::chain::tally(&credits, head, depth, payment.expires_at);
    for (tx_hash, log_index, ..) in tally.overflowed.iter().filter_map(|&i| rows.get(i)) {
        // The rest of the step goes on for every other payment; the operator sees why.
        tracing::error!(payment = id, tx = %tx_hash, "a transfer would overflow the payment's total; left uncredited");
        sqlx::query(
            "UPDATE chain_transfers SET payment_id = NULL, note = $5, updated_at = $6 \
             WHERE network = $1 AND tx_hash = $2 AND log_index = $3 AND payment_id = $4",
        )
        .bind(network)
        .bind(tx_hash)
        .bind(log_index)
        .bind(id)
        .bind(format!("not credited to {id}: its total received would exceed 2^128 base units"))
        .bind(ms(now))
        .execute(&mut **tx)
        .await?;
    }
    let funds = tally.funds;
    if let Some(deepest) = head.saturating_add(1).checked_sub(depth) {
        sqlx::query(
            "UPDATE chain_transfers SET status = 'confirmed', updated_at = $4 \
             WHERE payment_id = $1 AND network = $2 AND status = 'seen' AND block_number <= $3",
        )
        .bind(id)
        .bind(network)
        .bind(to_db("block number", deepest)?)
        .bind(ms(now))
        .execute(&mut **tx)
        .await?;
    }
    let (tolerance,): (i64,) = sqlx::query_as("SELECT underpayment_tolerance_bp FROM merchants WHERE id = $1")
        .bind(payment.merchant_id.to_string())
        .fetch_one(&mut **tx)
        .await?;
    let before = payment.clone();
    let kinds = match payment.apply_funds(funds, u32::try_from(tolerance).unwrap_or(0), now) {
        Ok(kinds) => kinds,
        Err(e) => {
            tracing::error!(payment = id, error = %e, "funds not applied");
            return Ok(Vec::new());
        }
    };
    if payment.version == before.version {
        return Ok(Vec::new());
    }
    if !update_payment(tx, &payment, before.version).await? {
        // The row is locked (PostgreSQL) or the database is (SQLite), so this means a writer
        // outside the rules; undo the whole step rather than commit a partial one.
        return Err(StoreError::Contended);
    }
    insert_events(tx, Some(&before), &payment, &kinds).await
}

/// Payments with transfers still short of their depth on `network`.
async fn confirming_payments(tx: &mut Tx, network: &str) -> Result<Vec<String>, StoreError> {
    let rows: Vec<(String,)> = sqlx::query_as(
        "SELECT DISTINCT payment_id FROM chain_transfers \
         WHERE network = $1 AND status = 'seen' AND payment_id IS NOT NULL",
    )
    .bind(network)
    .fetch_all(&mut **tx)
    .await?;
    Ok(rows.into_iter().map(|(id,)| id).collect())
}

pub(crate) async fn commit_scan(pool: &Pool<Db>, c: &ScanCommit) -> Result<ChainChange, StoreError> {
    let mut tx: Tx = pool.begin_with(BEGIN).await?;
    move_cursor(&mut tx, &c.network, c.expected.as_ref(), &c.cursor, c.cursor_time, c.now).await?;
    if let Some(first) = c.blocks.iter().map(|b| b.number).min() {
        sqlx::query("DELETE FROM chain_blocks WHERE network = $1 AND block_number >= $2")
            .bind(&c.network)
            .bind(to_db("block number", first)?)
            .execute(&mut *tx)
            .await?;
    }
    for b in &c.blocks {
        sqlx::query("INSERT INTO chain_blocks (network, block_number, block_hash) VALUES ($1, $2, $3)")
            .bind(&c.network)
            .bind(to_db("block number", b.number)?)
            .bind(&b.hash)
            .execute(&mut *tx)
            .await?;
    }
    sqlx::query("DELETE FROM chain_blocks WHERE network = $1 AND block_number < $2")
        .bind(&c.network)
        .bind(to_db("block number", c.cursor.number.saturating_sub(c.keep_blocks))?)
        .execute(&mut *tx)
        .await?;

    let mut affected = std::collections::BTreeSet::new();
    let mut change = ChainChange::default();
    for t in &c.transfers {
        if record_transfer(&mut tx, t, c.now).await? {
            change.recorded += 1;
            if let Some(p) = &t.payment_id {
                affected.insert(p.to_string());
            }
        }
    }
    affected.extend(confirming_payments(&mut tx, &c.network).await?);
    for id in &affected {
        change.events.extend(recompute_payment(&mut tx, id, &c.network, c.head, c.finalized, c.now).await?);
    }
    let depth = u64::from(c.confirmations.max(1));
    let head = payd_core::chain::counting_head(c.head, c.finalized, depth);
    if let Some(deepest) = head.saturating_add(1).checked_sub(depth) {
        sqlx::query(
            "UPDATE chain_transfers SET status = 'confirmed', updated_at = $3 \
             WHERE network = $1 AND payment_id IS NULL AND status = 'seen' AND block_number <= $2",
        )
        .bind(&c.network)
        .bind(to_db("block number", deepest)?)
        .bind(ms(c.now))
        .execute(&mut *tx)
        .await?;
    }
    tx.commit().await?;
    Ok(change)
}

#[allow(clippy::too_many_arguments)]
pub(crate) async fn rollback_chain(
    pool: &Pool<Db>,
    network: &str,
    expected: &BlockRef,
    fork: &BlockRef,
    fork_time: DateTime<Utc>,
    head: u64,
    finalized: Option<u64>,
    now: DateTime<Utc>,
) -> Result<ChainChange, StoreError> {
    let mut tx: Tx = pool.begin_with(BEGIN).await?;
    move_cursor(&mut tx, network, Some(expected), fork, fork_time, now).await?;
    let fork_number = to_db("block number", fork.number)?;
    let affected: Vec<(String,)> = sqlx::query_as(
        "SELECT DISTINCT payment_id FROM chain_transfers WHERE network = $1 AND block_number > $2 \
         AND status <> 'orphaned' AND payment_id IS NOT NULL",
    )
    .bind(network)
    .bind(fork_number)
    .fetch_all(&mut *tx)
    .await?;
    let orphaned = sqlx::query(
        "UPDATE chain_transfers SET status = 'orphaned', updated_at = $3 \
         WHERE network = $1 AND block_number > $2 AND status <> 'orphaned'",
    )
    .bind(network)
    .bind(fork_number)
    .bind(ms(now))
    .execute(&mut *tx)
    .await?
    .rows_affected();
    sqlx::query("DELETE FROM chain_blocks WHERE network = $1 AND block_number > $2")
        .bind(network)
        .bind(fork_number)
        .execute(&mut *tx)
        .await?;
    let mut change = ChainChange { orphaned: usize::try_from(orphaned).unwrap_or(usize::MAX), ..Default::default() };
    for (id,) in &affected {
        change.events.extend(recompute_payment(&mut tx, id, network, head, finalized, now).await?);
    }
    tx.commit().await?;
    Ok(change)
}

pub(crate) async fn transfers_of_payment(
    pool: &Pool<Db>,
    id: &PaymentId,
) -> Result<Vec<StoredTransfer>, StoreError> {
    let rows: Vec<TransferRow> = sqlx::query_as(&format!(
        "SELECT {TRANSFER_COLUMNS} FROM chain_transfers WHERE payment_id = $1 \
         ORDER BY block_number, log_index, tx_hash"
    ))
    .bind(id.to_string())
    .fetch_all(pool)
    .await?;
    rows.into_iter().map(StoredTransfer::try_from).collect()
}

pub(crate) async fn transfers_of_payments(
    pool: &Pool<Db>,
    ids: &[PaymentId],
) -> Result<Vec<StoredTransfer>, StoreError> {
    let mut out = Vec::new();
    // Chunks keep each statement well under SQLite's limit on bound parameters.
    for chunk in ids.chunks(500) {
        let mut q: QueryBuilder<Db> =
            QueryBuilder::new(format!("SELECT {TRANSFER_COLUMNS} FROM chain_transfers WHERE payment_id IN ("));
        let mut list = q.separated(", ");
        for id in chunk {
            list.push_bind(id.to_string());
        }
        list.push_unseparated(") ORDER BY block_number, log_index, tx_hash");
        let rows: Vec<TransferRow> = q.build_query_as().fetch_all(pool).await?;
        for row in rows {
            out.push(StoredTransfer::try_from(row)?);
        }
    }
    out.sort_by(|a, b| {
        (a.transfer.block.number, a.transfer.log_index, &a.transfer.tx_hash)
            .cmp(&(b.transfer.block.number, b.transfer.log_index, &b.transfer.tx_hash))
    });
    Ok(out)
}

pub(crate) async fn list_transfers(pool: &Pool<Db>, network: &str) -> Result<Vec<StoredTransfer>, StoreError> {
    let rows: Vec<TransferRow> = sqlx::query_as(&format!(
        "SELECT {TRANSFER_COLUMNS} FROM chain_transfers WHERE network = $1 \
         ORDER BY block_number, log_index, tx_hash"
    ))
    .bind(network)
    .fetch_all(pool)
    .await?;
    rows.into_iter().map(StoredTransfer::try_from).collect()
}

// ---- devnet's chain ----

pub(crate) async fn devnet_head(pool: &Pool<Db>) -> Result<Option<BlockRef>, StoreError> {
    let row: Option<(i64, String)> =
        sqlx::query_as("SELECT block_number, block_hash FROM devnet_blocks ORDER BY block_number DESC LIMIT 1")
            .fetch_optional(pool)
            .await?;
    row.map(|(n, hash)| Ok(BlockRef { number: from_db("block number", n)?, hash })).transpose()
}

pub(crate) async fn devnet_block(
    pool: &Pool<Db>,
    number: u64,
) -> Result<Option<(String, DateTime<Utc>)>, StoreError> {
    let Ok(n) = i64::try_from(number) else { return Ok(None) };
    let row: Option<(String, i64)> =
        sqlx::query_as("SELECT block_hash, created_at FROM devnet_blocks WHERE block_number = $1")
            .bind(n)
            .fetch_optional(pool)
            .await?;
    row.map(|(h, t)| Ok((h, crate::rows::from_ms(t)?))).transpose()
}

pub(crate) async fn devnet_transfers(
    pool: &Pool<Db>,
    from: u64,
    to: u64,
) -> Result<Vec<DevnetTransfer>, StoreError> {
    type Row = (String, String, String, String, String, i64, i64, String);
    let rows: Vec<Row> = sqlx::query_as(
        "SELECT t.tx_hash, t.token, t.from_address, t.to_address, t.amount, t.block_number, t.log_index, \
         b.block_hash FROM devnet_transfers t JOIN devnet_blocks b ON b.block_number = t.block_number \
         WHERE t.block_number >= $1 AND t.block_number <= $2 ORDER BY t.block_number, t.log_index",
    )
    .bind(to_db("block number", from)?)
    .bind(i64::try_from(to).unwrap_or(i64::MAX))
    .fetch_all(pool)
    .await?;
    rows.into_iter()
        .map(|(tx_hash, token, from, to, amount, block, log_index, hash)| {
            Ok(DevnetTransfer {
                tx_hash,
                token,
                from,
                to,
                amount: amount.parse().map_err(|_| crate::rows::corrupt("amount", &amount))?,
                block: Some(BlockRef { number: from_db("block number", block)?, hash }),
                log_index: Some(from_db("log index", log_index)?),
            })
        })
        .collect()
}

pub(crate) async fn devnet_submit(
    pool: &Pool<Db>,
    t: &DevnetTransfer,
    now: DateTime<Utc>,
) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO devnet_transfers (tx_hash, token, from_address, to_address, amount, block_number, \
         log_index, created_at) VALUES ($1, $2, $3, $4, $5, NULL, NULL, $6)",
    )
    .bind(&t.tx_hash)
    .bind(&t.token)
    .bind(&t.from)
    .bind(&t.to)
    .bind(t.amount.to_string())
    .bind(ms(now))
    .execute(pool)
    .await?;
    Ok(())
}

pub(crate) async fn devnet_produce_block(
    pool: &Pool<Db>,
    hash: &str,
    now: DateTime<Utc>,
) -> Result<u64, StoreError> {
    let mut tx: Tx = pool.begin_with(BEGIN).await?;
    let last: Option<(i64, i64)> = sqlx::query_as(
        "SELECT block_number, created_at FROM devnet_blocks ORDER BY block_number DESC LIMIT 1",
    )
    .fetch_optional(&mut *tx)
    .await?;
    let number = last.map_or(0, |(n, _)| n.saturating_add(1));
    // Block times never go back, as on a real chain (a clock step back, or a block mined
    // "as of" a later moment, would otherwise make money in a later block look earlier).
    let time = last.map_or(ms(now), |(_, t)| t.max(ms(now)));
    // Two producers racing for one number: the primary key lets one win.
    sqlx::query("INSERT INTO devnet_blocks (block_number, block_hash, created_at) VALUES ($1, $2, $3)")
        .bind(number)
        .bind(hash)
        .bind(time)
        .execute(&mut *tx)
        .await?;
    let mempool: Vec<(String,)> = sqlx::query_as(
        "SELECT tx_hash FROM devnet_transfers WHERE block_number IS NULL ORDER BY created_at, tx_hash",
    )
    .fetch_all(&mut *tx)
    .await?;
    for (i, (tx_hash,)) in mempool.iter().enumerate() {
        sqlx::query(
            "UPDATE devnet_transfers SET block_number = $2, log_index = $3 \
             WHERE tx_hash = $1 AND block_number IS NULL",
        )
        .bind(tx_hash)
        .bind(number)
        .bind(i64::try_from(i).unwrap_or(i64::MAX))
        .execute(&mut *tx)
        .await?;
    }
    tx.commit().await?;
    from_db("block number", number)
}

pub(crate) async fn devnet_reorg(
    pool: &Pool<Db>,
    hashes: &[String],
    drop_transfers: bool,
    now: DateTime<Utc>,
) -> Result<u64, StoreError> {
    let mut tx: Tx = pool.begin_with(BEGIN).await?;
    let (max,): (Option<i64>,) =
        sqlx::query_as("SELECT MAX(block_number) FROM devnet_blocks").fetch_one(&mut *tx).await?;
    let head = max.ok_or(StoreError::NotFound("devnet block"))?;
    // Genesis stays: at most every block after it is replaced.
    let depth = i64::try_from(hashes.len()).unwrap_or(i64::MAX).min(head);
    let fork = head - depth;
    let moved = if drop_transfers {
        "DELETE FROM devnet_transfers WHERE block_number > $1"
    } else {
        "UPDATE devnet_transfers SET block_number = NULL, log_index = NULL WHERE block_number > $1"
    };
    sqlx::query(moved).bind(fork).execute(&mut *tx).await?;
    sqlx::query("DELETE FROM devnet_blocks WHERE block_number > $1").bind(fork).execute(&mut *tx).await?;
    for (number, hash) in (fork + 1..=head).zip(hashes) {
        sqlx::query("INSERT INTO devnet_blocks (block_number, block_hash, created_at) VALUES ($1, $2, $3)")
            .bind(number)
            .bind(hash)
            .bind(ms(now))
            .execute(&mut *tx)
            .await?;
    }
    tx.commit().await?;
    from_db("block number", fork)
}

pub(crate) async fn devnet_autopay_due(
    pool: &Pool<Db>,
    created_before: DateTime<Utc>,
    limit: u32,
) -> Result<Vec<PaymentId>, StoreError> {
    let rows: Vec<(String,)> = sqlx::query_as(
        "SELECT id FROM payments p WHERE mode = 'test' AND status = 'pending' AND deposit_address IS NOT NULL \
         AND created_at <= $1 AND NOT EXISTS \
         (SELECT 1 FROM devnet_transfers t WHERE t.to_address = p.deposit_address) \
         ORDER BY created_at, id LIMIT $2",
    )
    .bind(ms(created_before))
    .bind(i64::from(limit))
    .fetch_all(pool)
    .await?;
    rows.into_iter().map(|(id,)| id.parse().map_err(|_| crate::rows::corrupt("payment id", id))).collect()
}
