//! The HTTP server, assembled from actix-web's parts: the connection layer
//! (`connection::Conn`: the per-client bound and the dispatcher's errors as problem bodies) sits
//! between the listener and the HTTP/1 dispatcher, which serves `app`.

use super::connection::{refusal, ClientConnections, Conn};
use super::Handles;
use crate::settings::HttpSettings;
use actix_http::{HttpService, Protocol};
use actix_service::{fn_service, map_config, ServiceFactoryExt};
use actix_web::dev::{AppConfig, Server};
use actix_web::rt::net::TcpStream;
use std::net::{IpAddr, TcpListener};
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// Serves `handles` on `listener` with two workers until stopped through the returned server's
/// handle (no signal handling of its own: start-up installs that).
pub fn serve(
    listener: TcpListener,
    handles: Handles,
    settings: &HttpSettings,
    trusted_proxies: &[IpAddr],
) -> std::io::Result<Server> {
    let builder = actix_server::Server::build();
    let shutdown = builder.graceful_shutdown_signal();
    let clients = ClientConnections::new(settings.max_connections_per_client, trusted_proxies);
    let max = settings.max_connections_per_client;
    let header_timeout = Duration::from_secs_f64(settings.header_timeout_secs);
    let server = builder
        .workers(2)
        .shutdown_timeout(5)
        .disable_signals()
        .listen("postroom-http", listener, move || {
            let app = super::app(handles.clone());
            let shutdown = shutdown.clone();
            let http = HttpService::build()
                .client_request_timeout(header_timeout)
                // After an early answer (413, 408), what the client still sends is read and
                // dropped for a second, so it can read the answer instead of a reset.
                .client_disconnect_timeout(Duration::from_secs(1))
                .graceful_shutdown_signal(move || {
                    let signal = shutdown.clone();
                    async move { signal.notified().await }
                })
                .finish(map_config(
                    actix_service::IntoServiceFactory::into_factory(app)
                        .map_err(|e: actix_web::Error| e.error_response()),
                    |_| AppConfig::default(),
                ));
            let clients = clients.clone();
            fn_service(move |io: TcpStream| {
                let peer = io.peer_addr().ok();
                let admitted = clients.admit(peer.map(|p| p.ip()));
                async move {
                    let _ = io.set_nodelay(true);
                    match admitted {
                        Some(slot) => Ok((Conn::new(io, slot), Protocol::Http1, peer)),
                        None => {
                            refuse(io, max).await;
                            Err(actix_http::error::DispatchError::Io(
                                std::io::ErrorKind::ConnectionRefused.into(),
                            ))
                        }
                    }
                }
            })
            .and_then(http)
        })?
        .run();
    Ok(server)
}

/// Answers 429 and closes. What the client already sent is read (briefly) first, so closing does
/// not reset the connection before the client has read the answer.
async fn refuse(mut io: TcpStream, max: usize) {
    let _ = io.write_all(&refusal(max)).await;
    let _ = io.shutdown().await;
    let mut sink = [0u8; 8192];
    let drain = async {
        let mut total = 0;
        while let Ok(n) = io.read(&mut sink).await {
            total += n;
            if n == 0 || total > 64 * 1024 {
                break;
            }
        }
    };
    let _ = tokio::time::timeout(Duration::from_millis(500), drain).await;
}
