//! Webhook deliveries counted for `/metrics`: plain data, so the state every handler reaches
//! can hold it without importing the delivery task.

use std::sync::atomic::AtomicU64;

/// Deliveries made and failed, for `/metrics`.
#[derive(Debug, Default)]
pub struct DeliveryMetrics {
    pub delivered: AtomicU64,
    pub failed: AtomicU64,
    pub disabled: AtomicU64,
}
