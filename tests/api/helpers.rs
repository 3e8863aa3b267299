//! `spawn_app()`: a real server on port 0 with its own temporary data folder, on a thread of its
//! own, and a `TestApp` with one method per endpoint. `TEST_LOG=1` turns logs on.

use postroom::actors::{CommandEnvelope, EngineError, Outcome};
use postroom::domain::interaction::InteractionCommand;
use postroom::domain::user::Role;
use postroom::domain::{AgentId, InteractionId, Principal};
use postroom::settings::Settings;
use postroom::startup::{now, Application, Engine};
use serde_json::{json, Value};
use std::path::PathBuf;
use std::sync::{Arc, Once};

static LOGS: Once = Once::new();

pub fn init_logs() {
    LOGS.call_once(|| {
        if std::env::var("TEST_LOG").is_ok() {
            let _ = tracing_subscriber::fmt()
                .with_env_filter("debug")
                .with_test_writer()
                .try_init();
        }
    });
}

pub struct TestApp {
    pub address: String,
    pub engine: Arc<Engine>,
    pub admin_token: String,
    admin: AgentId,
    #[allow(dead_code)]
    pub data_dir: PathBuf,
    handle: actix_web::dev::ServerHandle,
    thread: Option<std::thread::JoinHandle<()>>,
    _dir: Option<tempfile::TempDir>,
}

/// The response of a call: status and JSON body (Null when none).
#[derive(Debug)]
pub struct Resp {
    pub status: u16,
    pub body: Value,
    pub headers: Vec<(String, String)>,
}

impl Resp {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

pub fn block_on<F: std::future::Future>(f: F) -> F::Output {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a test runtime")
        .block_on(f)
}

pub fn spawn_app() -> TestApp {
    spawn_app_with(|_| {})
}

pub fn spawn_app_with(configure: impl FnOnce(&mut Settings)) -> TestApp {
    let dir = tempfile::tempdir().expect("temp dir");
    let mut app = start(dir.path().to_path_buf(), configure);
    app._dir = Some(dir);
    app
}

/// Starts a server on an existing data folder (for restarts).
pub fn start(data_dir: PathBuf, configure: impl FnOnce(&mut Settings)) -> TestApp {
    init_logs();
    let mut settings = Settings::load(None, Vec::new()).expect("default settings");
    settings.listen = "127.0.0.1:0".into();
    settings.data_dir = data_dir.clone();
    settings.log.cache_mib = 32;
    // Tests send many forms from 127.0.0.1; the tests of the limit turn it back on.
    settings.webform.rate_limit_per_minute = 0;
    configure(&mut settings);
    let (tx, rx) = std::sync::mpsc::channel();
    let thread = std::thread::spawn(move || {
        actix_web::rt::System::new().block_on(async move {
            let app = Application::build(settings).await.expect("the app starts");
            tx.send((app.port(), app.engine(), app.handle()))
                .expect("test waits");
            app.run_until_stopped().await.expect("the server runs");
        })
    });
    let (port, engine, handle) = rx.recv().expect("the app reports its port");
    // A fresh admin per start: a restarted data folder still knows the earlier ones.
    static STARTS: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
    let n = STARTS.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
    let admin = AgentId::parse(&format!("root{n}")).expect("name");
    let admin_token = add_user_direct(&engine, &admin, Role::Admin);
    TestApp {
        address: format!("http://127.0.0.1:{port}"),
        engine,
        admin_token,
        admin,
        data_dir,
        handle,
        thread: Some(thread),
        _dir: None,
    }
}

/// Adds a user straight through the log (no HTTP) and waits until auth knows them.
pub fn add_user_direct(engine: &Engine, name: &AgentId, role: Role) -> String {
    block_on(async {
        let (token, pos) = postroom::actors::users::add(
            engine.storage.store.as_ref(),
            name,
            role,
            Principal::System("test".into()),
            now(),
        )
        .await
        .expect("user added");
        assert!(
            engine
                .projections
                .wait_for(pos, std::time::Duration::from_secs(5))
                .await
        );
        token
    })
}

pub(crate) fn call(req: ureq::Request, body: Option<Value>) -> Resp {
    let result = match body {
        Some(b) => req.send_json(b),
        None => req.call(),
    };
    let resp = match result {
        Ok(r) => r,
        Err(ureq::Error::Status(_, r)) => r,
        Err(e) => panic!("request failed: {e}"),
    };
    let status = resp.status();
    let headers = resp
        .headers_names()
        .into_iter()
        .filter_map(|n| resp.header(&n).map(|v| (n.clone(), v.to_string())))
        .collect();
    let text = resp.into_string().unwrap_or_default();
    let body = serde_json::from_str(&text).unwrap_or(Value::Null);
    Resp {
        status,
        body,
        headers,
    }
}

impl TestApp {
    pub fn admin_name(&self) -> &str {
        self.admin.as_str()
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.address, path)
    }

    /// Any method on any path, with an optional bearer token and no body.
    pub fn request(&self, method: &str, path: &str, token: Option<&str>) -> Resp {
        let mut req = ureq::request(method, &self.url(path));
        if let Some(t) = token {
            req = req.set("Authorization", &format!("Bearer {t}"));
        }
        call(req, None)
    }

    pub fn get(&self, path: &str, token: Option<&str>) -> Resp {
        let mut req = ureq::get(&self.url(path));
        if let Some(t) = token {
            req = req.set("Authorization", &format!("Bearer {t}"));
        }
        call(req, None)
    }

    pub fn admin_get(&self, path: &str) -> Resp {
        self.get(path, Some(&self.admin_token))
    }

    pub fn post_json(&self, path: &str, token: Option<&str>, body: Value) -> Resp {
        self.request_json("POST", path, token, body)
    }

    /// A JSON request with an `Idempotency-Key`.
    pub fn request_keyed(
        &self,
        method: &str,
        path: &str,
        token: &str,
        key: &str,
        body: Value,
    ) -> Resp {
        let req = ureq::request(method, &self.url(path))
            .set("Authorization", &format!("Bearer {token}"))
            .set("Idempotency-Key", key);
        call(req, Some(body))
    }

    /// Any method with a JSON body.
    pub fn request_json(&self, method: &str, path: &str, token: Option<&str>, body: Value) -> Resp {
        let mut req = ureq::request(method, &self.url(path));
        if let Some(t) = token {
            req = req.set("Authorization", &format!("Bearer {t}"));
        }
        call(req, Some(body))
    }

    pub fn post_raw(&self, path: &str, content_type: &str, body: &[u8]) -> Resp {
        let req = ureq::post(&self.url(path)).set("Content-Type", content_type);
        match req.send_bytes(body) {
            Ok(r) | Err(ureq::Error::Status(_, r)) => {
                let status = r.status();
                let headers = r
                    .headers_names()
                    .into_iter()
                    .filter_map(|n| r.header(&n).map(|v| (n.clone(), v.to_string())))
                    .collect();
                let text = r.into_string().unwrap_or_default();
                Resp {
                    status,
                    body: serde_json::from_str(&text).unwrap_or(Value::Null),
                    headers,
                }
            }
            Err(e) => panic!("request failed: {e}"),
        }
    }

    pub fn delete(&self, path: &str, token: Option<&str>) -> Resp {
        let mut req = ureq::delete(&self.url(path));
        if let Some(t) = token {
            req = req.set("Authorization", &format!("Bearer {t}"));
        }
        call(req, None)
    }

    pub fn submit_webform(&self, from: &str, subject: &str, body: &str) -> Resp {
        self.post_json(
            "/api/v1/webform",
            None,
            json!({"from": from, "subject": subject, "body": body}),
        )
    }

    /// Submits a valid web form and answers the new interaction's id.
    pub fn new_interaction(&self, from: &str, subject: &str) -> InteractionId {
        let r = self.submit_webform(from, subject, "Hello, I need help.");
        assert_eq!(r.status, 202, "{:?}", r.body);
        r.body["interaction_id"]
            .as_str()
            .expect("an id")
            .parse()
            .expect("a uuid")
    }

    pub fn create_user(&self, name: &str, role: &str) -> Resp {
        self.post_json(
            "/api/v1/admin/users",
            Some(&self.admin_token),
            json!({"name": name, "role": role}),
        )
    }

    /// A token for a new user with this role.
    pub fn token_for(&self, name: &str, role: &str) -> String {
        let r = self.create_user(name, role);
        assert_eq!(r.status, 201, "{:?}", r.body);
        r.body["token"].as_str().expect("a token").to_string()
    }

    /// Runs a command through the actor registry (what later endpoints will do).
    pub fn execute(
        &self,
        id: InteractionId,
        command: InteractionCommand,
        principal: Principal,
    ) -> Result<Outcome, EngineError> {
        let engine = self.engine.clone();
        block_on(async move {
            let out = engine
                .registry
                .execute(id, CommandEnvelope::new(command, principal))
                .await?;
            if let Some(p) = out.last_position {
                engine
                    .projections
                    .wait_for(p, std::time::Duration::from_secs(5))
                    .await;
            }
            Ok(out)
        })
    }
}

impl Drop for TestApp {
    fn drop(&mut self) {
        let handle = self.handle.clone();
        // As a stop signal does: desktops' event streams end first.
        self.engine.notifier.close();
        block_on(handle.stop(true));
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// An agent id for tests.
pub fn agent(name: &str) -> AgentId {
    AgentId::parse(name).expect("a valid name")
}

/// Writes the whole log of `app` to `path` as an export (for a recorded schema snapshot under
/// `snapshots/`, which is never overwritten).
pub fn record_log(app: &TestApp, path: &std::path::Path) {
    assert!(!path.exists(), "a recorded log is never overwritten");
    let store = app.engine.storage.store.clone();
    let events = postroom::events::EventStore::read_all(store.as_ref(), 1, 10_000).unwrap();
    let mut f = std::fs::File::create(path).unwrap();
    postroom::events::export::write_lines(&mut f, &events).unwrap();
}

/// The value of one series in a Prometheus text exposition (`name{labels}` as written).
pub fn metric(text: &str, series: &str) -> f64 {
    text.lines()
        .find(|l| l.starts_with(series))
        .and_then(|l| l.rsplit(' ').next())
        .and_then(|v| v.parse().ok())
        .unwrap_or_else(|| panic!("{series} in:\n{text}"))
}

/// Polls `f` every 50 ms until it holds; panics naming `what` after `secs` seconds.
pub fn wait_until(what: &str, secs: u64, mut f: impl FnMut() -> bool) {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(secs);
    while std::time::Instant::now() < deadline {
        if f() {
            return;
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    panic!("timed out waiting for {what}");
}
