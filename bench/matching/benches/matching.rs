//! Matching a transfer's recipient against payd's watched-address index
//! (`payd_server::engine::credit::WatchIndex`) holding MATCHING_ADDRESSES (1,000,000) payments:
//! nanoseconds per log (criterion) for a recipient payd watches and for one it does not, and
//! the heap bytes per address, counted by a global allocator (not estimated).
//!
//! The floor, built and measured the same way: a `HashMap<[u8; 20], u32>` from the 20 address
//! bytes to a row number, queried with the log's recipient decoded from hex, the least an
//! index of EVM addresses can hold and do.
//!
//! Run: `bash bench/matching/run.sh` (or `cargo bench --locked` in bench/matching).

use std::alloc::{GlobalAlloc, Layout, System};
use std::collections::HashMap;
use std::hint::black_box;
use std::sync::atomic::{AtomicUsize, Ordering};

use chrono::{Duration, Utc};
use criterion::{Criterion, Throughput};
use payd_chain::family::stored_form;
use payd_core::ids::PaymentId;
use payd_core::registry::Family;
use payd_server::engine::credit::{Attribution, WatchIndex};
use payd_store::chain::WatchedPayment;

/// The system allocator, counting the bytes currently allocated.
struct Counting;

static LIVE: AtomicUsize = AtomicUsize::new(0);

// SAFETY: every call is forwarded to `System` unchanged; only a counter is kept beside it.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let p = System.alloc(layout);
        if !p.is_null() {
            LIVE.fetch_add(layout.size(), Ordering::Relaxed);
        }
        p
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        System.dealloc(ptr, layout);
        LIVE.fetch_sub(layout.size(), Ordering::Relaxed);
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        let p = System.realloc(ptr, layout, new_size);
        if !p.is_null() {
            LIVE.fetch_sub(layout.size(), Ordering::Relaxed);
            LIVE.fetch_add(new_size, Ordering::Relaxed);
        }
        p
    }
}

#[global_allocator]
static ALLOC: Counting = Counting;

fn live() -> usize {
    LIVE.load(Ordering::Relaxed)
}

/// The 20 bytes of watched address `i` (distinct, spread over the key space as derived
/// addresses are).
fn address_bytes(i: u64, salt: u8) -> [u8; 20] {
    let mut a = [0u8; 20];
    // splitmix64 of i, three times: deterministic and well spread.
    let mut x = i.wrapping_mul(3).wrapping_add(u64::from(salt));
    for chunk in a.chunks_mut(8) {
        x = x.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = x;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^= z >> 31;
        let bytes = z.to_le_bytes();
        chunk.copy_from_slice(&bytes[..chunk.len()]);
    }
    a
}

/// As a Transfer log's topic gives it once decoded: `0x` and lowercase hex.
fn log_form(a: &[u8; 20]) -> String {
    format!("0x{}", hex::encode(a))
}

fn main() {
    let n: u64 = std::env::var("MATCHING_ADDRESSES").ok().and_then(|v| v.parse().ok()).unwrap_or(1_000_000);
    let expires = Utc::now() + Duration::days(1);
    let window = Duration::days(1);
    let block_time = Utc::now();

    // The payments as the store hands them to the index (deposit addresses in EIP-55 form).
    let before = live();
    let watched: Vec<WatchedPayment> = (0..n)
        .map(|i| WatchedPayment {
            payment_id: PaymentId::new(),
            address: stored_form(Family::Evm, &log_form(&address_bytes(i, 0))).unwrap_or_default(),
            token: "USDC".to_owned(),
            expires_at: expires,
        })
        .collect();
    let loaded = live() - before;
    let index = WatchIndex::of(watched);
    let index_bytes = live() - before;
    assert_eq!(index.len() as u64, n, "addresses collided");

    let before = live();
    let floor: HashMap<[u8; 20], u32> =
        (0..n).map(|i| (address_bytes(i, 0), u32::try_from(i).unwrap_or(u32::MAX))).collect();
    let floor_bytes = live() - before;

    // Recipients as logs carry them: some watched, some not (another salt).
    let probes = 4096u64;
    let hits: Vec<String> =
        (0..probes).map(|k| log_form(&address_bytes(k * (n / probes).max(1) % n, 0))).collect();
    let misses: Vec<String> = (0..probes).map(|k| log_form(&address_bytes(k, 7))).collect();
    for h in &hits {
        assert!(matches!(index.attribute(h, "USDC", block_time, window), Attribution::Credit(_)));
    }
    for m in &misses {
        assert_eq!(index.attribute(m, "USDC", block_time, window), Attribution::Ignore);
    }

    let mut c = Criterion::default().configure_from_args();
    let mut g = c.benchmark_group("matching");
    g.throughput(Throughput::Elements(1));
    for (name, probes) in [("watched", &hits), ("not watched", &misses)] {
        g.bench_function(format!("payd WatchIndex::attribute, {name}"), |b| {
            let mut k = 0usize;
            b.iter(|| {
                k = (k + 1) & 4095;
                black_box(index.attribute(black_box(&probes[k]), "USDC", block_time, window))
            })
        });
        g.bench_function(format!("floor HashMap<[u8; 20], u32>, {name}"), |b| {
            let mut k = 0usize;
            b.iter(|| {
                k = (k + 1) & 4095;
                let mut key = [0u8; 20];
                let text = black_box(&probes[k]);
                let ok = hex::decode_to_slice(&text[2..], &mut key).is_ok();
                black_box(ok && floor.contains_key(&key))
            })
        });
    }
    g.finish();
    c.final_summary();

    let per = |bytes: usize| bytes as f64 / n as f64;
    println!("bytes per address, {n} addresses (heap, counted by the allocator):");
    println!(
        "  payd WatchIndex: {:.0} B/address ({:.1} MiB; of which the payments as loaded from the store: {:.0} B/address)",
        per(index_bytes),
        index_bytes as f64 / 1048576.0,
        per(loaded)
    );
    println!(
        "  floor HashMap<[u8; 20], u32>: {:.0} B/address ({:.1} MiB)",
        per(floor_bytes),
        floor_bytes as f64 / 1048576.0
    );
}
