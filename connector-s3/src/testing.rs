//! A real S3 implementation for tests and benchmarks: the [moto] server,
//! pinned in `testing/requirements.txt`, started on a free loopback port and
//! stopped when the [`MotoServer`] is dropped.
//!
//! For the workspace's own tests and benchmarks, not for production: the
//! server runs from a Python virtualenv (`.venv` at the workspace root, or
//! `$CONNECTOR_S3_VENV`) that `bash connector-s3/testing/setup-moto.sh`
//! creates; this module never installs anything, and without the venv
//! [`MotoServer::start`] fails saying how to make it.
//!
//! moto differs from AWS in ways tests must not depend on: it does not check
//! signatures (any keys are accepted), and a bogus continuation token gives
//! HTTP 500 where S3 gives 400.
//!
//! ```no_run
//! # async fn demo() -> connector_core::Result<()> {
//! use connector_s3::S3Connector;
//! use connector_s3::testing::MotoServer;
//!
//! let moto = MotoServer::start().expect("moto starts");
//! moto.create_bucket("docs").await?;
//! moto.put("docs", "hello.md", b"# Hello".to_vec()).await?;
//! let connector = S3Connector::new(moto.config("docs"))?;
//! # Ok(()) }
//! ```
//!
//! [moto]: https://github.com/getmoto/moto

use std::io::{Read, Write};
use std::net::{Ipv4Addr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use aws_sdk_s3::Client;
use aws_sdk_s3::config::{BehaviorVersion, Credentials, Region};
use aws_sdk_s3::primitives::ByteStream;
use aws_smithy_http_client::tls::{self, rustls_provider::CryptoMode};
use connector_core::{Error, Result};
use futures::{StreamExt, TryStreamExt};

use crate::{S3Config, S3Credentials};

/// The access key id the tests use (moto accepts any).
pub const ACCESS_KEY_ID: &str = "AKIAMOTOTESTING00000";
/// The secret the tests use; tests check it never appears in output.
pub const SECRET_ACCESS_KEY: &str = "moto-secret-do-not-print-7f3a9c";

/// How long moto may take to start (the first run also builds the venv).
const START_TIMEOUT: Duration = Duration::from_secs(60);

/// A moto S3 server on `127.0.0.1`, killed on drop.
#[derive(Debug)]
pub struct MotoServer {
    child: Child,
    port: u16,
    client: Client,
    log: PathBuf,
}

/// The virtualenv holding moto: `$CONNECTOR_S3_VENV`, else `.venv` at the
/// workspace root.
pub fn venv_dir() -> PathBuf {
    if let Some(dir) = std::env::var_os("CONNECTOR_S3_VENV") {
        return PathBuf::from(dir);
    }
    let manifest = Path::new(env!("CARGO_MANIFEST_DIR"));
    manifest.parent().unwrap_or(manifest).join(".venv")
}

/// The venv's Python. Nothing is installed from here: a missing or
/// incomplete venv is an error that says how to make it.
pub fn python() -> std::io::Result<PathBuf> {
    let venv = venv_dir();
    let python = venv.join("bin").join("python");
    let ready = Command::new(&python)
        .args(["-c", "import moto.server, boto3"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    if ready {
        return Ok(python);
    }
    Err(std::io::Error::other(format!(
        "moto is not installed in {}: run `bash connector-s3/testing/setup-moto.sh` once \
         (python3 with venv and access to PyPI), or point CONNECTOR_S3_VENV at a venv with \
         the packages of connector-s3/testing/requirements.txt",
        venv.display()
    )))
}

fn free_port() -> std::io::Result<u16> {
    let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0))?;
    Ok(listener.local_addr()?.port())
}

/// Whether moto answers its own API on `port`.
fn answers(port: u16) -> bool {
    let Ok(mut stream) = TcpStream::connect_timeout(
        &(Ipv4Addr::LOCALHOST, port).into(),
        Duration::from_millis(200),
    ) else {
        return false;
    };
    let _ = stream.set_read_timeout(Some(Duration::from_secs(2)));
    let request =
        format!("GET /moto-api/ HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nConnection: close\r\n\r\n");
    if stream.write_all(request.as_bytes()).is_err() {
        return false;
    }
    let mut head = [0u8; 12];
    stream.read_exact(&mut head).is_ok() && head.starts_with(b"HTTP/1.1 200")
}

impl MotoServer {
    /// Start moto on a free loopback port and wait until it answers.
    pub fn start() -> std::io::Result<Self> {
        let python = python()?;
        let mut last_error = None;
        for _ in 0..3 {
            let port = free_port()?;
            let log = std::env::temp_dir().join(format!("connector-s3-moto-{port}.log"));
            let log_file = std::fs::File::create(&log)?;
            let mut child = Command::new(&python)
                .args(["-m", "moto.server", "-H", "127.0.0.1", "-p"])
                .arg(port.to_string())
                .env("AWS_EC2_METADATA_DISABLED", "true")
                .stdin(Stdio::null())
                .stdout(log_file.try_clone()?)
                .stderr(log_file)
                .spawn()?;
            let deadline = Instant::now() + START_TIMEOUT;
            loop {
                if answers(port) {
                    let client = sdk_client(&format!("http://127.0.0.1:{port}"));
                    return Ok(Self {
                        child,
                        port,
                        client,
                        log,
                    });
                }
                if let Some(status) = child.try_wait()? {
                    // Most likely the port was taken in between: try another.
                    let tail = std::fs::read_to_string(&log).unwrap_or_default();
                    last_error = Some(format!("moto exited ({status}): {}", tail.trim()));
                    break;
                }
                if Instant::now() > deadline {
                    let _ = child.kill();
                    let _ = child.wait();
                    return Err(std::io::Error::other(format!(
                        "moto did not answer on port {port} within {START_TIMEOUT:?}; log: {}",
                        log.display()
                    )));
                }
                std::thread::sleep(Duration::from_millis(50));
            }
        }
        Err(std::io::Error::other(
            last_error.unwrap_or_else(|| "moto did not start".into()),
        ))
    }

    /// `http://127.0.0.1:<port>`.
    pub fn endpoint(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// The port moto listens on.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// The server's log file (requests, tracebacks).
    pub fn log_path(&self) -> &Path {
        &self.log
    }

    /// A connector configuration for `bucket` on this server: its endpoint,
    /// path-style, `us-east-1`, and the test keys as static credentials.
    pub fn config(&self, bucket: &str) -> S3Config {
        S3Config::new(bucket)
            .endpoint(self.endpoint())
            .path_style(true)
            .region("us-east-1")
            .credentials(S3Credentials::fixed(ACCESS_KEY_ID, SECRET_ACCESS_KEY))
            .max_attempts(2)
    }

    /// Create `bucket`.
    pub async fn create_bucket(&self, bucket: &str) -> Result<()> {
        self.client
            .create_bucket()
            .bucket(bucket)
            .send()
            .await
            .map_err(|e| seed_error("creating bucket", bucket, e))?;
        Ok(())
    }

    /// Write one object.
    pub async fn put(&self, bucket: &str, key: &str, body: Vec<u8>) -> Result<()> {
        self.client
            .put_object()
            .bucket(bucket)
            .key(key)
            .body(ByteStream::from(body))
            .send()
            .await
            .map_err(|e| seed_error("writing", key, e))?;
        Ok(())
    }

    /// Write many objects, `concurrency` at a time.
    pub async fn put_many(
        &self,
        bucket: &str,
        objects: impl IntoIterator<Item = (String, Vec<u8>)>,
        concurrency: usize,
    ) -> Result<()> {
        futures::stream::iter(objects)
            .map(|(key, body)| async move { self.put(bucket, &key, body).await })
            .buffer_unordered(concurrency.max(1))
            .try_collect::<Vec<()>>()
            .await?;
        Ok(())
    }

    /// Delete one object.
    pub async fn delete(&self, bucket: &str, key: &str) -> Result<()> {
        self.client
            .delete_object()
            .bucket(bucket)
            .key(key)
            .send()
            .await
            .map_err(|e| seed_error("deleting", key, e))?;
        Ok(())
    }
}

impl Drop for MotoServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_file(&self.log);
    }
}

fn seed_error(what: &str, name: &str, e: impl std::error::Error) -> Error {
    let mut chain = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        chain.push_str(": ");
        chain.push_str(&s.to_string());
        source = s.source();
    }
    Error::new(
        connector_core::ErrorKind::Other,
        format!("moto: {what} `{name}`: {chain}"),
    )
}

/// An SDK client for seeding moto: static test keys, no environment lookups.
fn sdk_client(endpoint: &str) -> Client {
    let http = aws_smithy_http_client::Builder::new()
        .tls_provider(tls::Provider::Rustls(CryptoMode::Ring))
        .build_https();
    let config = aws_sdk_s3::Config::builder()
        .behavior_version(BehaviorVersion::latest())
        .http_client(http)
        .region(Region::new("us-east-1"))
        .endpoint_url(endpoint)
        .force_path_style(true)
        .credentials_provider(Credentials::new(
            ACCESS_KEY_ID,
            SECRET_ACCESS_KEY,
            None,
            None,
            "moto",
        ))
        .build();
    Client::from_conf(config)
}
