//! PLACEHOLDER — being written (helper).

use crate::webhook::{InboundEvent, WebhookError};
use http::HeaderMap;
use secrecy::SecretString;

pub fn parse(_headers: &HeaderMap, _body: &[u8], _secret: &SecretString) -> Result<Vec<InboundEvent>, WebhookError> {
    Err(WebhookError::Unreadable("not written yet".into()))
}
