// Multi-row inserts for SQLite: `VALUES` lists of bound parameters, as many rows per
// statement as `MAX_PARAMS` allows. `sqlite.rs` includes this file after `ops.rs`, whose
// imports and row types it uses; PostgreSQL has its own (`bulk_postgres.rs`).
// (No inner doc comment here: this file is `include!`d.)

/// The most bound parameters a multi-row statement gets (SQLite allows 32,766): rows beyond
/// it go in another statement.
const MAX_PARAMS: usize = 16_000;

/// Inserts payments, as many per statement as [`MAX_PARAMS`] allows.
async fn insert_payments(tx: &mut Tx, payments: &[Payment]) -> Result<(), StoreError> {
    for chunk in payments.chunks(MAX_PARAMS / 47) {
        let rows = chunk.iter().map(PaymentRow::from_payment).collect::<Result<Vec<_>, _>>()?;
        let mut q: QueryBuilder<Db> = QueryBuilder::new(format!("INSERT INTO payments ({PAYMENT_COLUMNS}) "));
        q.push_values(rows, |mut b, r| {
            b.push_bind(r.id)
                .push_bind(r.merchant_id)
                .push_bind(r.mode)
                .push_bind(r.dialect)
                .push_bind(r.slug)
                .push_bind(r.status)
                .push_bind(r.underpaid)
                .push_bind(r.overpaid)
                .push_bind(r.paid_late)
                .push_bind(r.price_amount)
                .push_bind(r.price_currency)
                .push_bind(r.fx_rate)
                .push_bind(r.fx_source)
                .push_bind(r.fx_quote_currency)
                .push_bind(r.fx_quote_amount)
                .push_bind(r.token)
                .push_bind(r.network)
                .push_bind(r.token_decimals)
                .push_bind(r.amount_due)
                .push_bind(r.confirmations)
                .push_bind(r.deposit_address)
                .push_bind(r.received_confirmed)
                .push_bind(r.received_pending)
                .push_bind(r.customer_external_id)
                .push_bind(r.customer_email)
                .push_bind(r.customer_name)
                .push_bind(r.reference)
                .push_bind(r.external_id)
                .push_bind(r.invoice)
                .push_bind(r.description)
                .push_bind(r.line_items)
                .push_bind(r.metadata)
                .push_bind(r.success_url)
                .push_bind(r.cancel_url)
                .push_bind(r.failure_url)
                .push_bind(r.back_url)
                .push_bind(r.idempotency_key)
                .push_bind(r.client_id)
                .push_bind(r.product_id)
                .push_bind(r.expires_at)
                .push_bind(r.created_at)
                .push_bind(r.updated_at)
                .push_bind(r.completed_at)
                .push_bind(r.version)
                .push_bind(r.partial_seen)
                .push_bind(r.paid_in_time)
                .push_bind(r.received_late);
        });
        // A statement per row count would crowd the prepared-statement cache; one row is the
        // common case and stays cached.
        q.build().persistent(chunk.len() == 1).execute(&mut **tx).await?;
    }
    Ok(())
}

/// Inserts events (each group with its payload text), as many per statement as
/// [`MAX_PARAMS`] allows.
async fn insert_event_rows(tx: &mut Tx, groups: &[(&str, &[Event])]) -> Result<(), StoreError> {
    let rows: Vec<(&str, &Event)> =
        groups.iter().flat_map(|(text, events)| events.iter().map(move |e| (*text, e))).collect();
    for chunk in rows.chunks(MAX_PARAMS / 8) {
        let mut q: QueryBuilder<Db> = QueryBuilder::new(
            "INSERT INTO payment_events (id, payment_id, merchant_id, mode, kind, sequence, payload, created_at) ",
        );
        q.push_values(chunk, |mut b, (text, event)| {
            b.push_bind(event.id.to_string())
                .push_bind(event.payment_id.to_string())
                .push_bind(event.merchant_id.to_string())
                .push_bind(event.mode.as_str())
                .push_bind(event.kind.as_str())
                .push_bind(event.sequence)
                .push_bind(*text)
                .push_bind(ms(event.created_at));
        });
        q.build().persistent(chunk.len() == 1).execute(&mut **tx).await?;
    }
    Ok(())
}

/// Records many derived addresses (each with its time) in as few statements as
/// `MAX_PARAMS` allows.
async fn record_deposit_addresses(tx: &mut Tx, records: &[(NewDepositAddress, i64)]) -> Result<(), StoreError> {
    for chunk in records.chunks(MAX_PARAMS / 8) {
        let mut q: QueryBuilder<Db> = QueryBuilder::new(
            "INSERT INTO deposit_addresses (address, family, key_id, derivation_index, merchant_id, payment_id, \
             client_id, created_at) ",
        );
        let rows = chunk
            .iter()
            .map(|(a, at)| Ok((a, to_db("address index", a.index)?, *at)))
            .collect::<Result<Vec<_>, StoreError>>()?;
        q.push_values(rows, |mut b, (a, index, at)| {
            b.push_bind(a.address.clone())
                .push_bind(a.family.clone())
                .push_bind(a.key_id.clone())
                .push_bind(index)
                .push_bind(a.merchant_id.to_string())
                .push_bind(a.payment_id.as_ref().map(ToString::to_string))
                .push_bind(a.client_id.clone())
                .push_bind(at);
        });
        q.build().persistent(chunk.len() == 1).execute(&mut **tx).await?;
    }
    Ok(())
}

/// Inserts webhook deliveries `(id, event id, endpoint id, event name)`, pending and due at
/// `now`.
pub(crate) async fn insert_deliveries(tx: &mut Tx, rows: &[(String, String, String, String)], now: i64) -> Result<(), StoreError> {
    for chunk in rows.chunks(16_000 / 5) {
        let mut q: QueryBuilder<Db> = QueryBuilder::new(
            "INSERT INTO webhook_deliveries (id, event_id, endpoint_id, event_name, status, attempts, \
             next_attempt_at, created_at, updated_at) ",
        );
        q.push_values(chunk, |mut b, (id, event, ep, name)| {
            b.push_bind(id.as_str())
                .push_bind(event.as_str())
                .push_bind(ep.as_str())
                .push_bind(name.as_str())
                .push("'pending'")
                .push("0")
                .push_bind(now)
                .push_bind(now)
                .push_bind(now);
        });
        q.build().persistent(chunk.len() == 1).execute(&mut **tx).await?;
    }
    Ok(())
}

/// A batch's new rows (derived addresses, payments, their events), table by table.
async fn insert_created(
    tx: &mut Tx,
    addresses: &[(NewDepositAddress, i64)],
    payments: &[Payment],
    events: &[(&str, &[Event])],
) -> Result<(), StoreError> {
    record_deposit_addresses(tx, addresses).await?;
    insert_payments(tx, payments).await?;
    insert_event_rows(tx, events).await
}
