//! Facts about this installation, written once.

use crate::{AsConn, Result, on_conn};

/// This installation's id: a short random token, made on first use and never changed. Ticket
/// markers carry it, so that two installations pushing to one repository never adopt each
/// other's tickets.
pub async fn id(c: &mut impl AsConn) -> Result<String> {
    let candidate: String = {
        const ALPHABET: &[u8] = b"abcdefghijklmnopqrstuvwxyz0123456789";
        (0..8).map(|_| ALPHABET[rand::random_range(0..ALPHABET.len())] as char).collect()
    };
    on_conn!(c, |conn| sqlx::query(
        "INSERT INTO installation (key, value) VALUES ('id', $1) ON CONFLICT (key) DO NOTHING"
    )
    .bind(&candidate)
    .execute(conn)
    .await
    .map(|_| ()))?;
    let id: String = on_conn!(c, |conn| sqlx::query_scalar("SELECT value FROM installation WHERE key = 'id'")
        .fetch_one(conn)
        .await)?;
    Ok(id)
}
