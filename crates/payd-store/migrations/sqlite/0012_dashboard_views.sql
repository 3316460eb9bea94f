-- The dashboard's operator views: the unattributed transfers page lists the transfers payd
-- credited to no payment, newest first, a page at a time; without this index every page
-- would scan every transfer. (The payments-per-day chart and the money totals use the
-- existing indexes: payments_list and chain_transfers_payment.)
CREATE INDEX chain_transfers_unattributed ON chain_transfers (created_at DESC, network, tx_hash, log_index)
    WHERE payment_id IS NULL;
