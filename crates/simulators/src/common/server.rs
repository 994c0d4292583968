use axum::Router;
use std::net::SocketAddr;
use tokio::net::TcpListener;
use tokio::task::JoinHandle;

/// A running simulator. Dropping it stops the server.
#[derive(Debug)]
pub struct SimServer {
    pub addr: SocketAddr,
    handle: JoinHandle<()>,
}

impl SimServer {
    /// Serves `router` on `bind` (`127.0.0.1:0` picks a free port).
    pub async fn start(router: Router, bind: SocketAddr) -> std::io::Result<SimServer> {
        let listener = TcpListener::bind(bind).await?;
        let addr = listener.local_addr()?;
        let handle = tokio::spawn(async move {
            if let Err(e) = axum::serve(listener, router.into_make_service_with_connect_info::<SocketAddr>()).await {
                tracing::warn!(error = %e, "A simulator stopped.");
            }
        });
        Ok(SimServer { addr, handle })
    }

    /// `http://127.0.0.1:PORT`, without a trailing slash.
    pub fn base_url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Serves until the server stops (for `vulnbridge simulate`).
    pub async fn wait(self) {
        let _ = (&mut { self }.handle).await;
    }
}

impl Drop for SimServer {
    fn drop(&mut self) {
        self.handle.abort();
    }
}
