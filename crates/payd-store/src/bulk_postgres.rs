// Multi-row inserts for PostgreSQL: each column bound as one array and the rows read back
// with `UNNEST`, so a statement's text is the same for one row or 256. It is prepared once
// per connection and runs in one round trip; a `VALUES` list of bound parameters would be
// parsed and planned again for every batch size, in two round trips (sqlx prepares an
// uncached statement before running it). `postgres.rs` includes this file after `ops.rs`,
// whose imports and row types it uses; SQLite has its own (`bulk_sqlite.rs`).
// (No inner doc comment here: this file is `include!`d.)

/// One column of `rows` as the array bound for it.
fn column<'a, R, T>(rows: &'a [R], f: impl Fn(&'a R) -> T) -> Vec<T> {
    rows.iter().map(f).collect()
}

type Query<'q> = sqlx::query::Query<'q, Db, <Db as sqlx::Database>::Arguments<'q>>;

/// `INSERT INTO {table} ({columns}) SELECT * FROM UNNEST(...)`, its arrays numbered from
/// `$first` and typed by `types` (one per column, in order).
fn unnest_insert(table: &str, columns: &str, types: &[&str], first: usize) -> String {
    let arrays: Vec<String> = types.iter().enumerate().map(|(i, t)| format!("${}::{t}[]", first + i)).collect();
    format!("INSERT INTO {table} ({columns}) SELECT * FROM UNNEST({})", arrays.join(", "))
}

// The array type of each of `PAYMENT_COLUMNS`, in its order.
const PAYMENT_TYPES: [&str; 47] = [
    "text", "text", "text", "text", "text", "text", "bool", "bool", "bool", "text", "text", "text", "text", "text",
    "text", "text", "text", "int8", "text", "int8", "text", "text", "text", "text", "text", "text", "text", "text",
    "text", "text", "text", "text", "text", "text", "text", "text", "text", "text", "text", "int8", "int8", "int8",
    "int8", "int8", "bool", "bool", "text",
];

const ADDRESS_COLUMNS: &str =
    "address, family, key_id, derivation_index, merchant_id, payment_id, client_id, created_at";
const ADDRESS_TYPES: [&str; 8] = ["text", "text", "text", "int8", "text", "text", "text", "int8"];

const EVENT_COLUMNS: &str = "id, payment_id, merchant_id, mode, kind, sequence, payload, created_at";
const EVENT_TYPES: [&str; 8] = ["text", "text", "text", "text", "text", "int8", "text", "int8"];

/// Binds the arrays of `rows` in `PAYMENT_COLUMNS` order.
fn bind_payments<'q>(q: Query<'q>, rows: &[PaymentRow]) -> Query<'q> {
    q.bind(column(rows, |r| r.id.clone()))
        .bind(column(rows, |r| r.merchant_id.clone()))
        .bind(column(rows, |r| r.mode.clone()))
        .bind(column(rows, |r| r.dialect.clone()))
        .bind(column(rows, |r| r.slug.clone()))
        .bind(column(rows, |r| r.status.clone()))
        .bind(column(rows, |r| r.underpaid))
        .bind(column(rows, |r| r.overpaid))
        .bind(column(rows, |r| r.paid_late))
        .bind(column(rows, |r| r.price_amount.clone()))
        .bind(column(rows, |r| r.price_currency.clone()))
        .bind(column(rows, |r| r.fx_rate.clone()))
        .bind(column(rows, |r| r.fx_source.clone()))
        .bind(column(rows, |r| r.fx_quote_currency.clone()))
        .bind(column(rows, |r| r.fx_quote_amount.clone()))
        .bind(column(rows, |r| r.token.clone()))
        .bind(column(rows, |r| r.network.clone()))
        .bind(column(rows, |r| r.token_decimals))
        .bind(column(rows, |r| r.amount_due.clone()))
        .bind(column(rows, |r| r.confirmations))
        .bind(column(rows, |r| r.deposit_address.clone()))
        .bind(column(rows, |r| r.received_confirmed.clone()))
        .bind(column(rows, |r| r.received_pending.clone()))
        .bind(column(rows, |r| r.customer_external_id.clone()))
        .bind(column(rows, |r| r.customer_email.clone()))
        .bind(column(rows, |r| r.customer_name.clone()))
        .bind(column(rows, |r| r.reference.clone()))
        .bind(column(rows, |r| r.external_id.clone()))
        .bind(column(rows, |r| r.invoice.clone()))
        .bind(column(rows, |r| r.description.clone()))
        .bind(column(rows, |r| r.line_items.clone()))
        .bind(column(rows, |r| r.metadata.clone()))
        .bind(column(rows, |r| r.success_url.clone()))
        .bind(column(rows, |r| r.cancel_url.clone()))
        .bind(column(rows, |r| r.failure_url.clone()))
        .bind(column(rows, |r| r.back_url.clone()))
        .bind(column(rows, |r| r.idempotency_key.clone()))
        .bind(column(rows, |r| r.client_id.clone()))
        .bind(column(rows, |r| r.product_id.clone()))
        .bind(column(rows, |r| r.expires_at))
        .bind(column(rows, |r| r.created_at))
        .bind(column(rows, |r| r.updated_at))
        .bind(column(rows, |r| r.completed_at))
        .bind(column(rows, |r| r.version))
        .bind(column(rows, |r| r.partial_seen))
        .bind(column(rows, |r| r.paid_in_time))
        .bind(column(rows, |r| r.received_late.clone()))
}

/// Binds the arrays of events (each with its payload text) in `EVENT_COLUMNS` order.
fn bind_events<'q>(q: Query<'q>, rows: &[(&str, &Event)]) -> Query<'q> {
    q.bind(column(rows, |(_, e)| e.id.to_string()))
        .bind(column(rows, |(_, e)| e.payment_id.to_string()))
        .bind(column(rows, |(_, e)| e.merchant_id.to_string()))
        .bind(column(rows, |(_, e)| e.mode.as_str().to_owned()))
        .bind(column(rows, |(_, e)| e.kind.as_str().to_owned()))
        .bind(column(rows, |(_, e)| e.sequence))
        .bind(column(rows, |(text, _)| (*text).to_owned()))
        .bind(column(rows, |(_, e)| ms(e.created_at)))
}

/// Binds the arrays of derived addresses (each with its time) in `ADDRESS_COLUMNS` order.
fn bind_addresses<'q>(q: Query<'q>, records: &[(NewDepositAddress, i64)]) -> Result<Query<'q>, StoreError> {
    let indexes = records
        .iter()
        .map(|(a, _)| to_db("address index", a.index))
        .collect::<Result<Vec<i64>, StoreError>>()?;
    Ok(q.bind(column(records, |(a, _)| a.address.clone()))
        .bind(column(records, |(a, _)| a.family.clone()))
        .bind(column(records, |(a, _)| a.key_id.clone()))
        .bind(indexes)
        .bind(column(records, |(a, _)| a.merchant_id.to_string()))
        .bind(column(records, |(a, _)| a.payment_id.as_ref().map(ToString::to_string)))
        .bind(column(records, |(a, _)| a.client_id.clone()))
        .bind(column(records, |(_, at)| *at)))
}

/// Inserts payments in one statement.
async fn insert_payments(tx: &mut Tx, payments: &[Payment]) -> Result<(), StoreError> {
    static SQL: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    let sql = SQL.get_or_init(|| unnest_insert("payments", PAYMENT_COLUMNS, &PAYMENT_TYPES, 1));
    let rows = payments.iter().map(PaymentRow::from_payment).collect::<Result<Vec<_>, _>>()?;
    bind_payments(sqlx::query(sql), &rows).execute(&mut **tx).await?;
    Ok(())
}

/// Inserts events (each group with its payload text) in one statement.
async fn insert_event_rows(tx: &mut Tx, groups: &[(&str, &[Event])]) -> Result<(), StoreError> {
    static SQL: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    let sql = SQL.get_or_init(|| unnest_insert("payment_events", EVENT_COLUMNS, &EVENT_TYPES, 1));
    let rows: Vec<(&str, &Event)> =
        groups.iter().flat_map(|(text, events)| events.iter().map(move |e| (*text, e))).collect();
    if rows.is_empty() {
        return Ok(());
    }
    bind_events(sqlx::query(sql), &rows).execute(&mut **tx).await?;
    Ok(())
}

/// A batch's new rows (derived addresses, payments, their events) in one statement, one round
/// trip: the addresses and payments are inserted by data-modifying `WITH` parts, whose foreign
/// keys are checked, like the events', at the end of the statement.
async fn insert_created(
    tx: &mut Tx,
    addresses: &[(NewDepositAddress, i64)],
    payments: &[Payment],
    events: &[(&str, &[Event])],
) -> Result<(), StoreError> {
    static SQL: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    let sql = SQL.get_or_init(|| {
        let a = unnest_insert("deposit_addresses", ADDRESS_COLUMNS, &ADDRESS_TYPES, 1);
        let p = unnest_insert("payments", PAYMENT_COLUMNS, &PAYMENT_TYPES, 1 + ADDRESS_TYPES.len());
        let e = unnest_insert("payment_events", EVENT_COLUMNS, &EVENT_TYPES, 1 + ADDRESS_TYPES.len() + PAYMENT_TYPES.len());
        format!("WITH a AS ({a}), p AS ({p}) {e}")
    });
    let rows = payments.iter().map(PaymentRow::from_payment).collect::<Result<Vec<_>, _>>()?;
    let event_rows: Vec<(&str, &Event)> =
        events.iter().flat_map(|(text, events)| events.iter().map(move |e| (*text, e))).collect();
    let q = bind_addresses(sqlx::query(sql), addresses)?;
    bind_events(bind_payments(q, &rows), &event_rows).execute(&mut **tx).await?;
    Ok(())
}

/// Inserts webhook deliveries `(id, event id, endpoint id, event name)`, pending and due at
/// `now`, in one statement.
pub(crate) async fn insert_deliveries(
    tx: &mut Tx,
    rows: &[(String, String, String, String)],
    now: i64,
) -> Result<(), StoreError> {
    if rows.is_empty() {
        return Ok(());
    }
    sqlx::query(
        "INSERT INTO webhook_deliveries (id, event_id, endpoint_id, event_name, status, attempts, \
         next_attempt_at, created_at, updated_at) SELECT id, event_id, endpoint_id, event_name, 'pending', 0, \
         $5, $5, $5 FROM UNNEST($1::text[], $2::text[], $3::text[], $4::text[]) AS d (id, event_id, \
         endpoint_id, event_name)",
    )
    .bind(column(rows, |r| r.0.as_str()))
    .bind(column(rows, |r| r.1.as_str()))
    .bind(column(rows, |r| r.2.as_str()))
    .bind(column(rows, |r| r.3.as_str()))
    .bind(now)
    .execute(&mut **tx)
    .await?;
    Ok(())
}
