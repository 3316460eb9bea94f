//! The store's catalog API: products, customers and merchant settings.

use chrono::{DateTime, Utc};
use payd_core::apikey::Mode;
use payd_core::catalog::{CustomerRecord, Product};
use payd_core::ids::{CustomerId, MerchantId, ProductId};
use rust_decimal::Decimal;

use crate::{postgres, sqlite, Store, StoreError};

impl Store {
    /// Stores a new product.
    pub async fn insert_product(&self, product: &Product) -> Result<(), StoreError> {
        dispatch!(self, catalog::insert_product(product))
    }

    /// A product by id (deleted ones are gone).
    pub async fn get_product(&self, id: &ProductId) -> Result<Option<Product>, StoreError> {
        dispatch!(self, catalog::get_product(id))
    }

    /// A merchant's products in a mode, newest first, with the total count.
    pub async fn list_products(
        &self,
        merchant: &MerchantId,
        mode: Mode,
        offset: u32,
        limit: u32,
    ) -> Result<(Vec<Product>, i64), StoreError> {
        dispatch!(self, catalog::list_products(merchant, mode, offset, limit))
    }

    /// Writes a changed product; `false` when it no longer exists.
    pub async fn update_product(&self, product: &Product) -> Result<bool, StoreError> {
        dispatch!(self, catalog::update_product(product))
    }

    /// Deletes a product (softly: payments made from it keep their reference).
    pub async fn delete_product(&self, id: &ProductId, now: DateTime<Utc>) -> Result<bool, StoreError> {
        dispatch!(self, catalog::delete_product(id, now))
    }

    /// Stores a new customer record.
    pub async fn insert_customer(&self, customer: &CustomerRecord) -> Result<(), StoreError> {
        dispatch!(self, catalog::insert_customer(customer))
    }

    /// A customer record by id.
    pub async fn get_customer(&self, id: &CustomerId) -> Result<Option<CustomerRecord>, StoreError> {
        dispatch!(self, catalog::get_customer(id))
    }

    /// Sets (or clears) a merchant's minimum payment in USD.
    pub async fn set_merchant_min_amount(
        &self,
        merchant: &MerchantId,
        min_usd: Option<Decimal>,
        now: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        let done =
            dispatch!(self, catalog::set_merchant_min_amount(merchant, min_usd.map(|d| d.to_string()), now));
        self.forget_api_keys();
        done
    }

    /// Sets (or clears) a merchant's settlement asset as `(token, network)`.
    pub async fn set_merchant_settlement(
        &self,
        merchant: &MerchantId,
        asset: Option<(String, String)>,
        now: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        let done = dispatch!(self, catalog::set_merchant_settlement(merchant, asset, now));
        self.forget_api_keys();
        done
    }

    /// Sets a merchant's underpayment tolerance in basis points of the amount due (0 to
    /// 10,000, a CHECK constraint; 0 turns it off): a payment short by at most that much
    /// completes, flagged `underpaid`.
    pub async fn set_merchant_underpayment_tolerance(
        &self,
        merchant: &MerchantId,
        basis_points: u32,
        now: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        let done = dispatch!(
            self,
            catalog::set_merchant_underpayment_tolerance(merchant, i64::from(basis_points), now)
        );
        self.forget_api_keys();
        done
    }

    /// A merchant's underpayment tolerance in basis points; `None` for an unknown merchant.
    pub async fn merchant_underpayment_tolerance(
        &self,
        merchant: &MerchantId,
    ) -> Result<Option<u32>, StoreError> {
        let bp: Option<i64> = dispatch!(self, catalog::merchant_underpayment_tolerance(merchant))?;
        bp.map(|v| u32::try_from(v).map_err(|_| crate::rows::corrupt("underpayment tolerance", v)))
            .transpose()
    }

    /// A merchant's minimum payment in USD, if one is set.
    pub async fn merchant_min_amount(&self, merchant: &MerchantId) -> Result<Option<Decimal>, StoreError> {
        let text: Option<String> = dispatch!(self, catalog::merchant_min_amount(merchant))?;
        text.map(|t| t.parse().map_err(|_| crate::rows::corrupt("min amount", t))).transpose()
    }
}
