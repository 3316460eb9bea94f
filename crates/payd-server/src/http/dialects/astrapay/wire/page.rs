//! AstraPay's paged lists: `page`/`pageSize` query parameters and the `meta` block.

use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::payment::Status;
use crate::http::code::Code;
use crate::http::error::ApiError;

/// `GET /v1/api/payments` and `GET /v1/api/products` query.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ListIn {
    /// From 1.
    pub page: Option<String>,
    /// From 1 to 100 (10 by default).
    #[serde(rename = "pageSize")]
    pub page_size: Option<String>,
    /// Payments only.
    #[param(value_type = Option<Status>)]
    pub status: Option<String>,
    pub search: Option<String>,
}

impl ListIn {
    pub fn page(&self) -> Option<&str> {
        self.page.as_deref()
    }

    pub fn page_size(&self) -> Option<&str> {
        self.page_size.as_deref()
    }
}

#[derive(Debug, Serialize)]
pub struct Page<T> {
    /// The items.
    pub data: Vec<T>,
    /// Where they sit in the whole list.
    pub meta: Meta,
}

/// Where a page sits in the whole list.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = astrapay::Meta)]
pub struct Meta {
    page: u32,
    #[serde(rename = "pageSize")]
    page_size: u32,
    total: i64,
    pages: i64,
}

/// Parses `page` (≥ 1) and `pageSize` (1–100).
pub fn paging(page: Option<&str>, size: Option<&str>) -> Result<(u32, u32), ApiError> {
    let page =
        match page {
            None => 1,
            Some(p) => p.parse::<u32>().ok().filter(|n| (1..=1_000_000).contains(n)).ok_or_else(|| {
                ApiError::new(Code::InvalidQuery, "page must be a whole number of at least 1")
            })?,
        };
    let size = match size {
        None => 10,
        Some(s) => s
            .parse::<u32>()
            .ok()
            .filter(|n| (1..=100).contains(n))
            .ok_or_else(|| ApiError::new(Code::InvalidQuery, "pageSize must be from 1 to 100"))?,
    };
    Ok((page, size))
}

/// The list envelope's `meta`.
pub fn meta(page: u32, page_size: u32, total: i64) -> Meta {
    let size = i64::from(page_size);
    Meta { page, page_size, total, pages: (total + size - 1) / size }
}
