//! Listing payments: filters, reach over several merchants, modes, keyset pagination.

use std::collections::HashSet;

use chrono::{DateTime, Duration, Utc};
use payd_core::apikey::Mode;
use payd_core::ids::{MerchantId, PaymentId};
use payd_core::payment::{Payment, PaymentStatus};
use payd_store::{now, PaymentFilter, Store};

use crate::fixtures::{create, merchant, new_payment};

conformance!(
    listing_filters_by_status_reference_and_creation_time,
    listing_spans_the_given_merchants_and_keeps_modes_apart,
    keyset_pagination_walks_every_payment_exactly_once,
);

fn all(merchants: &[&MerchantId], mode: Mode) -> PaymentFilter {
    PaymentFilter {
        merchant_ids: merchants.iter().map(|&m| m.clone()).collect(),
        mode,
        status: None,
        reference: None,
        created_gte: None,
        created_lte: None,
        before: None,
        limit: 1000,
        ..PaymentFilter::new(Vec::new(), Mode::Test)
    }
}

async fn ids(store: &Store, filter: &PaymentFilter) -> Vec<PaymentId> {
    store.list_payments(filter).await.expect("list").into_iter().map(|p| p.id).collect()
}

/// Newest first, ties broken by id, descending: the order the store promises.
fn newest_first<'a>(payments: impl IntoIterator<Item = &'a Payment>) -> Vec<PaymentId> {
    let mut v: Vec<&Payment> = payments.into_iter().collect();
    v.sort_by_key(|p| std::cmp::Reverse((p.created_at, p.id.to_string())));
    v.into_iter().map(|p| p.id.clone()).collect()
}

async fn listing_filters_by_status_reference_and_creation_time(store: Store) {
    let m = merchant(&store, "Shop").await;
    let base = now() - Duration::hours(1);
    let at = |i: i64| base + Duration::minutes(i);
    let mut payments = Vec::new();
    for i in 0..10 {
        let mut new = new_payment(&m.id, Mode::Test);
        new.reference = (i != 9).then(|| format!("ref-{}", i % 3));
        payments.push(create(&store, new, at(i)).await);
    }
    for i in [0, 4, 8] {
        let id = &payments[i].id;
        let done = store.mutate_payment(id, &mut |p| p.cancel(now())).await.expect("mutate");
        assert!(done.is_ok(), "{done:?}");
    }
    let pick = |idx: &[usize]| -> Vec<PaymentId> { idx.iter().map(|&i| payments[i].id.clone()).collect() };

    let everything = all(&[&m.id], Mode::Test);
    assert_eq!(ids(&store, &everything).await, pick(&[9, 8, 7, 6, 5, 4, 3, 2, 1, 0]));
    assert_eq!(ids(&store, &everything).await, newest_first(&payments));

    let cancelled = PaymentFilter { status: Some(PaymentStatus::Cancelled), ..everything.clone() };
    assert_eq!(ids(&store, &cancelled).await, pick(&[8, 4, 0]));
    for p in store.list_payments(&cancelled).await.expect("list") {
        assert_eq!(p.status, PaymentStatus::Cancelled);
        assert_eq!(p.version, 2);
    }
    let pending = PaymentFilter { status: Some(PaymentStatus::Pending), ..everything.clone() };
    assert_eq!(ids(&store, &pending).await, pick(&[9, 7, 6, 5, 3, 2, 1]));
    let completed = PaymentFilter { status: Some(PaymentStatus::Completed), ..everything.clone() };
    assert_eq!(ids(&store, &completed).await, vec![]);

    let ref1 = PaymentFilter { reference: Some("ref-1".into()), ..everything.clone() };
    assert_eq!(ids(&store, &ref1).await, pick(&[7, 4, 1]));
    let ref1_cancelled = PaymentFilter { status: Some(PaymentStatus::Cancelled), ..ref1.clone() };
    assert_eq!(ids(&store, &ref1_cancelled).await, pick(&[4]));
    let no_ref = PaymentFilter { reference: Some("ref-9".into()), ..everything.clone() };
    assert_eq!(ids(&store, &no_ref).await, vec![]);

    // Both bounds are inclusive.
    let range = PaymentFilter { created_gte: Some(at(3)), created_lte: Some(at(6)), ..everything.clone() };
    assert_eq!(ids(&store, &range).await, pick(&[6, 5, 4, 3]));
    let from = PaymentFilter { created_gte: Some(at(8)), ..everything.clone() };
    assert_eq!(ids(&store, &from).await, pick(&[9, 8]));
    let until = PaymentFilter { created_lte: Some(at(1)), ..everything.clone() };
    assert_eq!(ids(&store, &until).await, pick(&[1, 0]));
    let between = PaymentFilter {
        created_gte: Some(at(3) + Duration::milliseconds(1)),
        created_lte: Some(at(6) - Duration::milliseconds(1)),
        ..everything.clone()
    };
    assert_eq!(ids(&store, &between).await, pick(&[5, 4]));
    let empty_range =
        PaymentFilter { created_gte: Some(at(6)), created_lte: Some(at(3)), ..everything.clone() };
    assert_eq!(ids(&store, &empty_range).await, vec![]);
    let combined = PaymentFilter { reference: Some("ref-0".into()), ..range.clone() };
    assert_eq!(ids(&store, &combined).await, pick(&[6, 3]));

    let limited = PaymentFilter { limit: 3, ..everything.clone() };
    assert_eq!(ids(&store, &limited).await, pick(&[9, 8, 7]));
    let none = PaymentFilter { limit: 0, ..everything };
    assert_eq!(ids(&store, &none).await, vec![]);
}

async fn listing_spans_the_given_merchants_and_keeps_modes_apart(store: Store) {
    let a = merchant(&store, "A").await;
    let b = merchant(&store, "B").await;
    let c = merchant(&store, "C").await;
    let base = now() - Duration::minutes(10);
    let mut made: Vec<(MerchantId, Mode, Payment)> = Vec::new();
    let plan = [
        (&a.id, Mode::Test),
        (&b.id, Mode::Test),
        (&a.id, Mode::Live),
        (&c.id, Mode::Test),
        (&a.id, Mode::Test),
        (&b.id, Mode::Live),
        (&b.id, Mode::Test),
        (&a.id, Mode::Live),
    ];
    for (i, (merchant, mode)) in (0i64..).zip(plan) {
        let p = create(&store, new_payment(merchant, mode), base + Duration::seconds(i)).await;
        made.push((merchant.clone(), mode, p));
    }
    let expected = |merchants: &[&MerchantId], mode: Mode| -> Vec<PaymentId> {
        newest_first(
            made.iter().filter(|(m, md, _)| *md == mode && merchants.contains(&m)).map(|(_, _, p)| p),
        )
    };

    for (merchants, mode) in [
        (vec![&a.id], Mode::Test),
        (vec![&a.id, &b.id], Mode::Test),
        (vec![&b.id, &a.id], Mode::Test),
        (vec![&a.id, &b.id, &c.id], Mode::Test),
        (vec![&a.id, &b.id], Mode::Live),
        (vec![&a.id, &b.id, &c.id], Mode::Live),
        (vec![&c.id], Mode::Live),
    ] {
        let got = store.list_payments(&all(&merchants, mode)).await.expect("list");
        for p in &got {
            assert_eq!(p.mode, mode);
            assert!(merchants.contains(&&p.merchant_id));
        }
        let got: Vec<PaymentId> = got.into_iter().map(|p| p.id).collect();
        assert_eq!(got, expected(&merchants, mode), "merchants {merchants:?}, mode {mode}");
    }
    assert_eq!(ids(&store, &all(&[&a.id, &b.id, &c.id], Mode::Test)).await.len(), 5);
    assert_eq!(ids(&store, &all(&[&a.id, &b.id], Mode::Live)).await.len(), 3);
    assert_eq!(ids(&store, &all(&[], Mode::Test)).await, vec![]);
    assert_eq!(ids(&store, &all(&[&MerchantId::new()], Mode::Test)).await, vec![]);
}

/// Walks every page of `filter` with `limit`, checking each page's size.
async fn walk(store: &Store, filter: &PaymentFilter, limit: u32) -> (Vec<PaymentId>, usize) {
    let mut seen = Vec::new();
    let mut pages = 0;
    let mut before: Option<(DateTime<Utc>, PaymentId)> = None;
    loop {
        let page = store
            .list_payments(&PaymentFilter { before: before.clone(), limit, ..filter.clone() })
            .await
            .expect("list page");
        assert!(page.len() <= limit as usize);
        let Some(last) = page.last() else { break };
        before = Some((last.created_at, last.id.clone()));
        pages += 1;
        let full = page.len() == limit as usize;
        seen.extend(page.into_iter().map(|p| p.id));
        assert!(pages <= 100, "pagination does not end");
        if !full {
            // A short page is the last one; asking past it must give nothing.
            let rest = store
                .list_payments(&PaymentFilter { before: before.clone(), limit, ..filter.clone() })
                .await
                .expect("list past the end");
            assert_eq!(rest, vec![]);
            break;
        }
    }
    (seen, pages)
}

async fn keyset_pagination_walks_every_payment_exactly_once(store: Store) {
    let m = merchant(&store, "Shop").await;
    let other = merchant(&store, "Other").await;
    let base = now() - Duration::hours(1);
    let mut payments = Vec::new();
    for i in 0..25i64 {
        // Groups of three share a creation time, so the id must break ties.
        let at = base + Duration::seconds(i / 3);
        let mut new = new_payment(&m.id, Mode::Test);
        new.reference = Some(if i % 2 == 0 { "even" } else { "odd" }.into());
        payments.push(create(&store, new, at).await);
        // Noise the filter must leave out: another merchant, and the other mode.
        create(&store, new_payment(&other.id, Mode::Test), at).await;
        create(&store, new_payment(&m.id, Mode::Live), at).await;
    }
    let filter = all(&[&m.id], Mode::Test);
    let expected = newest_first(&payments);

    let (seen, pages) = walk(&store, &filter, 10).await;
    assert_eq!(pages, 3);
    assert_eq!(seen.len(), 25);
    assert_eq!(seen.iter().collect::<HashSet<_>>().len(), 25, "no duplicates");
    assert_eq!(seen, expected, "no gaps, newest first");

    // Page sizes that divide the total exactly, and a page of one.
    let (seen, pages) = walk(&store, &filter, 5).await;
    assert_eq!((seen.len(), pages), (25, 5));
    assert_eq!(seen, expected);
    let (seen, pages) = walk(&store, &filter, 1).await;
    assert_eq!((seen.len(), pages), (25, 25));
    assert_eq!(seen, expected);

    // Pagination composes with the other filters.
    let even = PaymentFilter { reference: Some("even".into()), ..filter.clone() };
    let (seen, pages) = walk(&store, &even, 4).await;
    assert_eq!(pages, 4);
    let expected_even: Vec<PaymentId> =
        newest_first(payments.iter().filter(|p| p.reference.as_deref() == Some("even")));
    assert_eq!(expected_even.len(), 13);
    assert_eq!(seen, expected_even);

    // A cursor in the middle of a group of equal creation times.
    let cursor_index = 4;
    let cursor = payments.iter().find(|p| p.id == expected[cursor_index]).expect("cursor payment");
    let after = PaymentFilter { before: Some((cursor.created_at, cursor.id.clone())), ..filter };
    assert_eq!(ids(&store, &after).await, expected[cursor_index + 1..].to_vec());
}
