//! TLS to a server whose certificate a private CA signed (a TLS-inspecting
//! proxy, an internal Jira): refused by default, trusted once the CA is
//! added through `tls_roots`.

#![allow(clippy::unwrap_used)]

use std::sync::Arc;

use connector_core::ErrorKind;
use connector_core::http::HttpClient;
use connector_core::options::SourceOptions;
use rcgen::{BasicConstraints, CertificateParams, IsCa, KeyPair};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// A private CA and a `localhost` certificate it signed; serves one JSON
/// answer per connection over TLS. Returns the base URL and the CA's PEM.
async fn private_ca_server() -> (String, String) {
    let ca_key = KeyPair::generate().unwrap();
    let mut ca_params = CertificateParams::new(Vec::<String>::new()).unwrap();
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    ca_params
        .distinguished_name
        .push(rcgen::DnType::CommonName, "Test Corporate CA");
    ca_params.key_usages = vec![
        rcgen::KeyUsagePurpose::KeyCertSign,
        rcgen::KeyUsagePurpose::CrlSign,
    ];
    let ca = ca_params.clone().self_signed(&ca_key).unwrap();
    let server_key = KeyPair::generate().unwrap();
    let mut server_params = CertificateParams::new(vec!["localhost".to_owned()]).unwrap();
    server_params
        .distinguished_name
        .push(rcgen::DnType::CommonName, "localhost");
    server_params.extended_key_usages = vec![rcgen::ExtendedKeyUsagePurpose::ServerAuth];
    let issuer = rcgen::Issuer::from_params(&ca_params, &ca_key);
    let server_cert = server_params.signed_by(&server_key, &issuer).unwrap();

    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_no_client_auth()
        .with_single_cert(
            vec![server_cert.der().clone()],
            rustls::pki_types::PrivateKeyDer::try_from(server_key.serialize_der()).unwrap(),
        )
        .unwrap();
    let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(config));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    tokio::spawn(async move {
        while let Ok((socket, _)) = listener.accept().await {
            let acceptor = acceptor.clone();
            tokio::spawn(async move {
                let Ok(mut tls) = acceptor.accept(socket).await else {
                    return;
                };
                let mut buf = [0u8; 4096];
                let _ = tls.read(&mut buf).await;
                let body = br#"{"ok":true}"#;
                let head = format!(
                    "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n",
                    body.len()
                );
                let _ = tls.write_all(head.as_bytes()).await;
                let _ = tls.write_all(body).await;
                let _ = tls.shutdown().await;
            });
        }
    });
    (format!("https://localhost:{port}"), ca.pem())
}

#[tokio::test]
async fn a_private_ca_is_refused_until_its_root_is_added() {
    let (base, ca_pem) = private_ca_server().await;
    let plain = HttpClient::builder("test", &base).build().unwrap();
    let err = plain
        .get("/x")
        .fetch_json::<serde_json::Value>()
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Transient, "{err}");

    let dir = tempfile::tempdir().unwrap();
    let pem = dir.path().join("corporate-ca.pem");
    std::fs::write(&pem, ca_pem).unwrap();
    let options = SourceOptions::default().with_tls_root(&pem);
    let trusting = HttpClient::builder("test", &base)
        .options(&options, 10.0)
        .build()
        .unwrap();
    let body: serde_json::Value = trusting.get("/x").fetch_json().await.unwrap();
    assert_eq!(body["ok"], true);
}

#[tokio::test]
async fn a_bad_roots_file_is_a_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    let pem = dir.path().join("not-a-cert.pem");
    std::fs::write(&pem, "hello").unwrap();
    for options in [
        SourceOptions::default().with_tls_root(&pem),
        SourceOptions::default().with_tls_root(dir.path().join("missing.pem")),
    ] {
        let err = HttpClient::builder("test", "https://localhost:1")
            .options(&options, 10.0)
            .build()
            .unwrap_err();
        assert!(err.to_string().contains("tls_roots"), "{err}");
    }
}
