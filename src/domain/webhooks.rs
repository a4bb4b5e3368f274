//! Webhook endpoints' and messages' ids.

record_id! {
    /// A webhook endpoint's id.
    EndpointId
}

record_id! {
    /// An outbox message's id: one event, delivered to every endpoint that wants it.
    MessageId
}
