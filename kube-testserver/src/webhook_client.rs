//! The HTTPS side of admission webhooks: one `POST` of an AdmissionReview per call, over TLS
//! checked against the webhook's `caBundle`, as kube-apiserver's webhook client (client-go's REST
//! client) makes it, with the words Go and client-go use when it fails.

use std::sync::Arc;
use std::time::Duration;

use axum::body::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::client::conn::http1;
use hyper_util::rt::TokioIo;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, ServerName};
use rustls::{CertificateError, RootCertStore};
use tokio::net::TcpStream;
use tokio_rustls::TlsConnector;

/// Where and how to reach one webhook.
#[derive(Clone, Debug)]
pub struct Endpoint {
    /// The URL as client-go names it in errors, `?timeout=` included:
    /// `https://webhook.system.svc:443/validate?timeout=10s`.
    pub url: String,
    /// The address to connect to: the URL's host and port, or what a service resolves to
    /// (None: a service nobody said where to find).
    pub dial: Option<String>,
    /// The name the server certificate must be valid for: the URL's host, or
    /// `<service>.<namespace>.svc` for a service reference.
    pub server_name: String,
    /// The `Host` header: the URL's host and port.
    pub authority: String,
    pub path_and_query: String,
    /// The PEM bundle the server certificate must chain to; None or empty: the system roots,
    /// which this server does not have.
    pub ca_bundle: Option<Vec<u8>>,
}

/// What the webhook answered.
pub struct Reply {
    pub status: u16,
    pub content_type: Option<String>,
    pub body: Bytes,
}

/// Why no answer came back, worded as the apiserver words it after `failed calling webhook "…": `.
#[derive(Debug)]
pub enum CallError {
    /// No client could be built (a CA bundle without certificates).
    Client(String),
    /// The request failed on the way: client-go's `*url.Error`, `Post "<url>": <cause>`.
    Transport(String),
}

impl CallError {
    pub fn reason(&self, url: &str) -> String {
        match self {
            CallError::Client(cause) => format!("could not get REST client: {cause}"),
            CallError::Transport(cause) => format!("failed to call webhook: Post \"{url}\": {cause}"),
        }
    }
}

/// Posts `body` to the webhook, giving up after `timeout` as the request's context would.
pub async fn post(endpoint: &Endpoint, body: Vec<u8>, timeout: Duration) -> Result<Reply, CallError> {
    let connector = connector(endpoint.ca_bundle.as_deref()).map_err(CallError::Client)?;
    match tokio::time::timeout(timeout, exchange(endpoint, connector, body)).await {
        Ok(result) => result.map_err(CallError::Transport),
        Err(_) => Err(CallError::Transport("context deadline exceeded".into())),
    }
}

/// A TLS client trusting only the CA bundle, speaking HTTP/1.1 as the apiserver does to webhooks.
fn connector(ca_bundle: Option<&[u8]>) -> Result<TlsConnector, String> {
    let mut roots = RootCertStore::empty();
    if let Some(pem) = ca_bundle.filter(|pem| !pem.is_empty()) {
        let added = CertificateDer::pem_slice_iter(pem)
            .filter_map(Result::ok)
            .filter(|certificate| roots.add(certificate.clone()).is_ok())
            .count();
        if added == 0 {
            return Err("unable to load root certificates: unable to parse bytes as PEM block".into());
        }
    }
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let mut config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| e.to_string())?
        .with_root_certificates(roots)
        .with_no_client_auth();
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(TlsConnector::from(Arc::new(config)))
}

async fn exchange(endpoint: &Endpoint, connector: TlsConnector, body: Vec<u8>) -> Result<Reply, String> {
    let Some(address) = &endpoint.dial else {
        return Err(format!("dial tcp: lookup {}: no such host", endpoint.server_name));
    };
    let tcp = TcpStream::connect(address).await.map_err(|e| dial_error(address, &e))?;
    let host = endpoint.server_name.trim_start_matches('[').trim_end_matches(']');
    let server_name = ServerName::try_from(host.to_string()).map_err(|e| e.to_string())?;
    let tls = connector.connect(server_name, tcp).await.map_err(|e| tls_error(&e))?;
    let (mut sender, connection) = http1::handshake(TokioIo::new(tls)).await.map_err(http_error)?;
    tokio::spawn(async move {
        // The connection ends with the exchange; how it ends is of no interest.
        let _ = connection.await;
    });
    let request = hyper::Request::post(&endpoint.path_and_query)
        .header("host", &endpoint.authority)
        .header("content-type", "application/json")
        .header("accept", "application/json, */*")
        .header("user-agent", "kube-apiserver-admission")
        .body(Full::new(Bytes::from(body)))
        .map_err(|e| e.to_string())?;
    let response = sender.send_request(request).await.map_err(http_error)?;
    let status = response.status().as_u16();
    let content_type = response
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .map(String::from);
    let body = response
        .into_body()
        .collect()
        .await
        .map_err(|e| format!("unexpected error when reading response body. Please retry. Original error: {e}"))?
        .to_bytes();
    Ok(Reply {
        status,
        content_type,
        body,
    })
}

/// Go's `*net.OpError` for a failed dial: `dial tcp 127.0.0.1:9443: connect: connection refused`.
fn dial_error(address: &str, error: &std::io::Error) -> String {
    let cause = match error.kind() {
        std::io::ErrorKind::ConnectionRefused => "connect: connection refused".to_string(),
        std::io::ErrorKind::TimedOut => "i/o timeout".to_string(),
        _ => {
            let text = error.to_string();
            // Rust appends the errno ("... (os error 113)"); Go does not.
            let text = text.split(" (os error").next().unwrap_or(&text).to_lowercase();
            format!("connect: {text}")
        }
    };
    format!("dial tcp {address}: {cause}")
}

/// What Go's TLS stack says when the handshake fails, for the failures a test can provoke.
fn tls_error(error: &std::io::Error) -> String {
    let Some(tls) = error.get_ref().and_then(|inner| inner.downcast_ref::<rustls::Error>()) else {
        return match error.kind() {
            std::io::ErrorKind::UnexpectedEof => "EOF".into(),
            _ => error.to_string(),
        };
    };
    match tls {
        rustls::Error::InvalidCertificate(certificate) => {
            format!("tls: failed to verify certificate: {}", x509_error(certificate))
        }
        rustls::Error::AlertReceived(alert) => format!("remote error: tls: {}", alert_text(*alert)),
        // What a plain HTTP server answers a ClientHello with does not parse as a record.
        rustls::Error::InvalidMessage(rustls::InvalidMessage::InvalidContentType) => {
            "http: server gave HTTP response to HTTPS client".into()
        }
        rustls::Error::InvalidMessage(_) => "tls: first record does not look like a TLS handshake".into(),
        other => format!("tls: {other}"),
    }
}

fn x509_error(error: &CertificateError) -> String {
    match error {
        // Go adds a hint when an issuer of the right name did not sign; webpki does not name it.
        CertificateError::UnknownIssuer | CertificateError::BadSignature => {
            "x509: certificate signed by unknown authority".into()
        }
        CertificateError::NotValidForNameContext { expected, presented } => {
            // webpki lists the certificate's names as `DnsName("a")` and `IpAddress(1.2.3.4)`.
            let of_kind = |prefix: &str| -> Vec<String> {
                presented
                    .iter()
                    .filter_map(|name| name.strip_prefix(prefix)?.strip_suffix(')'))
                    .map(|name| name.trim_matches('"').to_string())
                    .collect()
            };
            match expected {
                ServerName::IpAddress(ip) => {
                    let ip = std::net::IpAddr::from(*ip);
                    let ips = of_kind("IpAddress(");
                    if ips.is_empty() {
                        format!("x509: cannot validate certificate for {ip} because it doesn't contain any IP SANs")
                    } else {
                        format!("x509: certificate is valid for {}, not {ip}", ips.join(", "))
                    }
                }
                other => {
                    let host = match other {
                        ServerName::DnsName(name) => name.as_ref().to_string(),
                        other => format!("{other:?}"),
                    };
                    let names = of_kind("DnsName(");
                    if names.is_empty() {
                        format!("x509: certificate is not valid for any names, but wanted to match {host}")
                    } else {
                        format!("x509: certificate is valid for {}, not {host}", names.join(", "))
                    }
                }
            }
        }
        CertificateError::NotValidForName => "x509: certificate is not valid for the requested name".into(),
        CertificateError::Expired
        | CertificateError::ExpiredContext { .. }
        | CertificateError::NotValidYet
        | CertificateError::NotValidYetContext { .. } => "x509: certificate has expired or is not yet valid".into(),
        other => format!("x509: {other:?}"),
    }
}

fn alert_text(alert: rustls::AlertDescription) -> String {
    // Go names alerts in lower case with spaces: `bad certificate`, `handshake failure`.
    let name = format!("{alert:?}");
    let mut text = String::new();
    for (index, ch) in name.chars().enumerate() {
        if ch.is_uppercase() && index > 0 {
            text.push(' ');
        }
        text.extend(ch.to_lowercase());
    }
    text
}

/// client-go's words for an exchange that broke off.
fn http_error(error: hyper::Error) -> String {
    if error.is_incomplete_message() || error.is_closed() {
        "EOF".into()
    } else {
        error.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dial_errors_read_as_go_writes_them() {
        let refused = std::io::Error::from(std::io::ErrorKind::ConnectionRefused);
        assert_eq!(
            dial_error("127.0.0.1:9443", &refused),
            "dial tcp 127.0.0.1:9443: connect: connection refused"
        );
    }

    #[test]
    fn a_ca_bundle_without_certificates_builds_no_client() {
        let error = connector(Some(b"not a certificate")).err().expect("refused");
        assert_eq!(
            error,
            "unable to load root certificates: unable to parse bytes as PEM block"
        );
        assert!(connector(None).is_ok());
        assert!(connector(Some(b"")).is_ok());
    }

    #[tokio::test]
    async fn a_plain_http_server_is_named_as_go_names_it() {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("port");
        let address = listener.local_addr().expect("address").to_string();
        tokio::spawn(async move {
            let (mut socket, _) = listener.accept().await.expect("connection");
            let mut hello = [0u8; 1024];
            let _ = socket.read(&mut hello).await;
            let _ = socket
                .write_all(b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n")
                .await;
        });
        let endpoint = Endpoint {
            url: format!("https://{address}/"),
            dial: Some(address.clone()),
            server_name: "127.0.0.1".into(),
            authority: address,
            path_and_query: "/?timeout=10s".into(),
            ca_bundle: None,
        };
        match post(&endpoint, vec![], Duration::from_secs(5)).await {
            Err(CallError::Transport(cause)) => assert_eq!(cause, "http: server gave HTTP response to HTTPS client"),
            Err(other) => panic!("{other:?}"),
            Ok(_) => panic!("a plain HTTP server answered over TLS"),
        }
    }

    #[test]
    fn alerts_are_named_as_go_names_them() {
        assert_eq!(alert_text(rustls::AlertDescription::BadCertificate), "bad certificate");
    }

    #[test]
    fn call_errors_are_worded_as_the_apiserver_words_them() {
        let url = "https://webhook.system.svc:443/validate?timeout=10s";
        assert_eq!(
            CallError::Transport("context deadline exceeded".into()).reason(url),
            "failed to call webhook: Post \"https://webhook.system.svc:443/validate?timeout=10s\": context deadline exceeded"
        );
        assert_eq!(
            CallError::Client("bad".into()).reason(url),
            "could not get REST client: bad"
        );
    }
}
