//! Private PostgreSQL and RabbitMQ servers for the tests: Debian's binaries
//! (installed by `connector-service/testing/setup-servers.sh`), on free
//! loopback ports, with temporary data directories. One of each per test
//! binary; a watchdog stops them and removes their directories when the
//! test process ends, however it ends.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Mutex, OnceLock};
use std::time::{Duration, Instant};

const SETUP: &str = "connector-service/testing/setup-servers.sh";

pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .expect("a free port")
        .local_addr()
        .expect("an address")
        .port()
}

fn answers(port: u16) -> bool {
    std::net::TcpStream::connect_timeout(
        &std::net::SocketAddr::from(([127, 0, 0, 1], port)),
        Duration::from_millis(200),
    )
    .is_ok()
}

fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
        .unwrap_or(false)
}

/// Stop `script` work when this process ends: a shell polls our pid, then
/// runs `cleanup`.
fn watchdog(cleanup: &str) {
    let script = format!(
        "while kill -0 {pid} 2>/dev/null; do sleep 0.5; done; {cleanup}",
        pid = std::process::id()
    );
    let _ = Command::new("sh")
        .arg("-c")
        .arg(script)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn();
}

fn temp_dir(prefix: &str) -> PathBuf {
    tempfile::Builder::new()
        .prefix(prefix)
        .tempdir()
        .expect("a temporary directory")
        .keep()
}

/// A private PostgreSQL.
pub struct Postgres {
    pub port: u16,
    dir: PathBuf,
    /// The server (stopped by the watchdog when this process ends).
    _server: Mutex<Child>,
}

impl Postgres {
    /// A URL to a new, empty database.
    pub async fn fresh_database(&self) -> String {
        let name = format!("t{}", uuid_like());
        let admin = format!("postgres://postgres@127.0.0.1:{}/postgres", self.port);
        let (client, connection) = tokio_postgres::connect(&admin, tokio_postgres::NoTls)
            .await
            .expect("connect to the test PostgreSQL");
        tokio::spawn(connection);
        client
            .batch_execute(&format!("CREATE DATABASE {name}"))
            .await
            .expect("create a database");
        format!("postgres://postgres@127.0.0.1:{}/{name}", self.port)
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }
}

fn uuid_like() -> String {
    use std::sync::atomic::{AtomicU64, Ordering};
    static N: AtomicU64 = AtomicU64::new(0);
    format!(
        "{}_{}_{}",
        std::process::id(),
        N.fetch_add(1, Ordering::SeqCst),
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.subsec_nanos())
            .unwrap_or(0)
    )
}

fn pg_bin() -> PathBuf {
    let mut found: Vec<PathBuf> = std::fs::read_dir("/usr/lib/postgresql")
        .into_iter()
        .flatten()
        .flatten()
        .map(|e| e.path().join("bin"))
        .filter(|p| p.join("postgres").exists())
        .collect();
    found.sort();
    found.pop().unwrap_or_else(|| {
        panic!("PostgreSQL is not installed: run `bash {SETUP}` (it installs Debian's postgresql)")
    })
}

/// The PostgreSQL of this test binary, started on first use.
pub fn postgres() -> &'static Postgres {
    static PG: OnceLock<Postgres> = OnceLock::new();
    PG.get_or_init(|| {
        let bin = pg_bin();
        let dir = temp_dir("connector-service-pg-");
        let data = dir.join("data");
        let root = is_root();
        let as_pg = |program: &Path| {
            if root {
                let mut c = Command::new("runuser");
                c.args(["-u", "postgres", "--"]).arg(program);
                c
            } else {
                Command::new(program)
            }
        };
        if root {
            let ok = Command::new("chown")
                .args(["-R", "postgres:postgres"])
                .arg(&dir)
                .status()
                .map(|s| s.success())
                .unwrap_or(false);
            assert!(ok, "cannot give {} to the postgres user", dir.display());
        }
        let out = as_pg(&bin.join("initdb"))
            .arg("-D")
            .arg(&data)
            .args(["-A", "trust", "-U", "postgres", "--no-sync", "-E", "UTF8"])
            .output()
            .unwrap_or_else(|e| panic!("cannot run initdb ({e}); run `bash {SETUP}`"));
        assert!(
            out.status.success(),
            "initdb failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let port = free_port();
        let log = std::fs::File::create(dir.join("postgres.log")).expect("log file");
        let server: Child = as_pg(&bin.join("postgres"))
            .arg("-D")
            .arg(&data)
            .args(["-p", &port.to_string(), "-h", "127.0.0.1", "-k"])
            .arg(&dir)
            .args(["-c", "fsync=off", "-c", "max_connections=300", "-c", "synchronous_commit=off"])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start postgres ({e}); run `bash {SETUP}`"));
        watchdog(&format!(
            "kill -INT $(head -1 {data}/postmaster.pid) 2>/dev/null; sleep 3; kill -KILL $(head -1 {data}/postmaster.pid) 2>/dev/null; rm -rf {dir}",
            data = data.display(),
            dir = dir.display()
        ));
        let deadline = Instant::now() + Duration::from_secs(60);
        while !answers(port) {
            assert!(
                Instant::now() < deadline,
                "PostgreSQL did not start; see {}",
                dir.join("postgres.log").display()
            );
            std::thread::sleep(Duration::from_millis(100));
        }
        // Accepting TCP is not accepting queries: wait for the startup to end.
        std::thread::sleep(Duration::from_millis(300));
        Postgres {
            port,
            dir,
            _server: Mutex::new(server),
        }
    })
}

/// A private RabbitMQ that can be stopped and started again.
pub struct Rabbit {
    pub port: u16,
    dist_port: u16,
    epmd_port: u16,
    dir: PathBuf,
    child: Mutex<Option<Child>>,
}

fn rabbit_bin() -> PathBuf {
    let candidates = [
        PathBuf::from("/usr/lib/rabbitmq/bin/rabbitmq-server"),
        PathBuf::from("/usr/local/sbin/rabbitmq-server"),
    ];
    candidates
        .into_iter()
        .find(|p| p.exists())
        .unwrap_or_else(|| {
            panic!(
                "RabbitMQ is not installed: run `bash {SETUP}` (it installs Debian's rabbitmq-server)"
            )
        })
}

impl Rabbit {
    pub fn url(&self) -> String {
        format!("amqp://guest:guest@127.0.0.1:{}/%2f", self.port)
    }

    /// Start the broker and wait until it accepts connections.
    pub fn start(&self) {
        let mut child = self.child.lock().unwrap_or_else(|e| e.into_inner());
        if child.is_some() {
            return;
        }
        let d = &self.dir;
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(d.join("rabbit.out"))
            .expect("log file");
        let spawned = Command::new(rabbit_bin())
            .env("HOME", d)
            .env("RABBITMQ_NODENAME", format!("ctest{}@localhost", self.port))
            .env("RABBITMQ_NODE_IP_ADDRESS", "127.0.0.1")
            .env("RABBITMQ_NODE_PORT", self.port.to_string())
            .env("RABBITMQ_DIST_PORT", self.dist_port.to_string())
            .env("ERL_EPMD_PORT", self.epmd_port.to_string())
            .env("RABBITMQ_MNESIA_BASE", d.join("mnesia"))
            .env("RABBITMQ_LOG_BASE", d.join("log"))
            .env("RABBITMQ_ENABLED_PLUGINS_FILE", d.join("enabled_plugins"))
            .env("RABBITMQ_CONF_ENV_FILE", d.join("rabbitmq-env.conf"))
            .env("RABBITMQ_CONFIG_FILE", d.join("rabbitmq"))
            .env("RABBITMQ_ADVANCED_CONFIG_FILE", d.join("advanced.config"))
            .env("RABBITMQ_PID_FILE", d.join("rabbit.pid"))
            .env("RABBITMQ_LOGS", "-")
            .stdin(Stdio::null())
            .stdout(log.try_clone().expect("log file"))
            .stderr(log)
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start rabbitmq-server ({e}); run `bash {SETUP}`"));
        *child = Some(spawned);
        drop(child);
        let deadline = Instant::now() + Duration::from_secs(120);
        while !answers(self.port) {
            assert!(
                Instant::now() < deadline,
                "RabbitMQ did not start; see {}",
                d.join("rabbit.out").display()
            );
            std::thread::sleep(Duration::from_millis(200));
        }
    }

    /// Stop the broker (durable queues and persistent messages survive).
    pub fn stop(&self) {
        let mut child = self.child.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(mut c) = child.take() {
            // The pid file names the Erlang VM; the child may be the script.
            let beam = std::fs::read_to_string(self.dir.join("rabbit.pid")).unwrap_or_default();
            for pid in [beam.trim().to_string(), c.id().to_string()] {
                if !pid.is_empty() {
                    let _ = Command::new("kill").args(["-TERM", &pid]).status();
                }
            }
            let deadline = Instant::now() + Duration::from_secs(30);
            loop {
                if let Ok(Some(_)) = c.try_wait() {
                    break;
                }
                if Instant::now() > deadline {
                    let _ = c.kill();
                    let _ = c.wait();
                    break;
                }
                std::thread::sleep(Duration::from_millis(100));
            }
        }
        while answers(self.port) {
            std::thread::sleep(Duration::from_millis(100));
        }
    }
}

/// The RabbitMQ of this test binary, started on first use.
pub fn rabbitmq() -> &'static Rabbit {
    static RABBIT: OnceLock<Rabbit> = OnceLock::new();
    RABBIT.get_or_init(|| {
        let dir = temp_dir("connector-service-rabbit-");
        std::fs::write(dir.join("enabled_plugins"), "[].\n").expect("plugins file");
        std::fs::write(dir.join("rabbitmq-env.conf"), "").expect("env file");
        std::fs::write(dir.join("rabbitmq.conf"), "loopback_users = none\n").expect("config");
        let rabbit = Rabbit {
            port: free_port(),
            dist_port: free_port(),
            epmd_port: free_port(),
            dir,
            child: Mutex::new(None),
        };
        watchdog(&format!(
            "kill -KILL $(cat {dir}/rabbit.pid) 2>/dev/null; ERL_EPMD_PORT={epmd} epmd -port {epmd} -kill >/dev/null 2>&1; sleep 1; rm -rf {dir}",
            dir = rabbit.dir.display(),
            epmd = rabbit.epmd_port
        ));
        rabbit.start();
        rabbit
    })
}
