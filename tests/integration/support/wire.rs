//! A fault-injecting HTTP proxy on the wire between the AWS SDK and moto.
//!
//! `FaultyAws` fails calls above the SDK, so the SDK's own retries, its
//! error parsing and its connection handling never meet a fault. Here they
//! do, in the shapes AWS and the network produce them: throttling in each
//! protocol's own error format, a 5xx before the call, a connection closed
//! without an answer, and a 5xx after moto carried the call out (the
//! answer lost, the effect kept).
//!
//! Faults are drawn from a seeded RNG whose seed is printed; `WIRE_SEED`
//! replays it. The draws replay in order of arrival: concurrent reconciles
//! may still interleave their calls differently from one run to the next.

use std::collections::BTreeMap;
use std::fmt;
use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::task::{Context, Poll};
use std::time::Instant;

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::header::{CONTENT_TYPE, HeaderValue};
use hyper::service::service_fn;
use hyper::{Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{mpsc, watch};
use tokio::task::JoinHandle;

use super::proxy::serve_each;

/// What the proxy does to a call instead of carrying its answer back.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Fault {
    /// Answered at once in the protocol's throttling error; moto never sees the call.
    Throttle,
    /// A 500 or 503 (see `State::server_error`) before the call; moto never sees it.
    ServerError,
    /// The connection closed, abortively, once the request is read; moto never sees the call.
    Reset,
    /// Carried out by moto, its answer replaced by a 500 or 503: the effect
    /// happened and the caller does not know.
    LostAnswer,
}

impl Fault {
    pub const ALL: [Fault; 4] = [Fault::Throttle, Fault::ServerError, Fault::Reset, Fault::LostAnswer];
}

/// Which calls get a fault, and which.
#[derive(Clone, Debug)]
pub struct Faults {
    /// The share of matching calls that get a fault, 0 to 1.
    pub rate: f64,
    /// Drawn from with equal odds.
    pub kinds: Vec<Fault>,
    /// Only calls of these AWS operations (`CreateAccount`); none: every call.
    pub only: Vec<&'static str>,
    /// At most this many faults per operation, then its calls pass: with
    /// 1, a call the SDK retries meets the fault once and the retry passes.
    pub limit: Option<usize>,
}

impl Faults {
    /// Every kind, on every operation, at `rate`.
    pub fn everywhere(rate: f64) -> Faults {
        Faults {
            rate,
            kinds: Fault::ALL.to_vec(),
            only: vec![],
            limit: None,
        }
    }

    /// Every call of `operations` gets `kind`.
    pub fn always(operations: &[&'static str], kind: Fault) -> Faults {
        Faults {
            rate: 1.0,
            kinds: vec![kind],
            only: operations.to_vec(),
            limit: None,
        }
    }
}

/// What went through the proxy, for tests to assert on and report.
#[derive(Clone, Debug, Default)]
pub struct Tally {
    /// (fault, operation) → how many calls got it.
    pub injected: BTreeMap<(Fault, String), usize>,
    /// Operation → calls moto received, lost answers included.
    pub forwarded: BTreeMap<String, usize>,
}

impl Tally {
    pub fn injected(&self, fault: Fault) -> usize {
        self.injected
            .iter()
            .filter(|((kind, _), _)| *kind == fault)
            .map(|(_, count)| count)
            .sum()
    }

    pub fn injected_into(&self, operation: &str) -> usize {
        self.injected
            .iter()
            .filter(|((_, op), _)| op == operation)
            .map(|(_, count)| count)
            .sum()
    }

    pub fn forwarded(&self, operation: &str) -> usize {
        self.forwarded.get(operation).copied().unwrap_or(0)
    }

    /// Calls the proxy received, whatever became of them.
    pub fn calls(&self) -> usize {
        let lost = self.injected(Fault::LostAnswer);
        self.forwarded.values().sum::<usize>() + self.injected.values().sum::<usize>() - lost
    }
}

impl fmt::Display for Tally {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let total: usize = self.injected.values().sum();
        write!(f, "{} calls, {total} faults (", self.calls())?;
        let kinds: Vec<String> = Fault::ALL
            .iter()
            .map(|kind| format!("{kind:?} {}", self.injected(*kind)))
            .collect();
        writeln!(f, "{})", kinds.join(", "))?;
        let mut operations: Vec<&String> = self
            .forwarded
            .keys()
            .chain(self.injected.keys().map(|(_, op)| op))
            .collect();
        operations.sort();
        operations.dedup();
        for operation in operations {
            let faults: Vec<String> = Fault::ALL
                .iter()
                .filter_map(|kind| {
                    let count = self.injected.get(&(*kind, operation.clone()))?;
                    Some(format!("{kind:?} {count}"))
                })
                .collect();
            writeln!(
                f,
                "  {operation:<32} forwarded {:>4}  {}",
                self.forwarded(operation),
                faults.join(", ")
            )?;
        }
        Ok(())
    }
}

pub struct Wire {
    address: SocketAddr,
    seed: u64,
    state: Arc<State>,
    trapped: tokio::sync::Mutex<mpsc::UnboundedReceiver<(String, Instant)>>,
    task: JoinHandle<()>,
}

impl Drop for Wire {
    fn drop(&mut self) {
        // The accept task owns every connection's task, so they all go with it.
        self.task.abort();
    }
}

struct State {
    target: SocketAddr,
    /// The faults set, and how many each operation got since.
    faults: Mutex<Option<(Faults, BTreeMap<String, usize>)>>,
    rng: Mutex<StdRng>,
    tally: Mutex<Tally>,
    /// Operations whose next forwarded call is held once moto answered it.
    traps: Mutex<Vec<String>>,
    trapped: mpsc::UnboundedSender<(String, Instant)>,
    /// Bumped to let held answers go.
    release: watch::Sender<u64>,
    /// 5xx answers so far: their shape alternates (`server_error`).
    server_errors: AtomicUsize,
    /// Per service, the calls waiting for their answer now and at most.
    in_flight: Mutex<BTreeMap<&'static str, (usize, usize)>>,
    /// Whose credentials each forwarded call was signed with: the
    /// operation and the access key id, in order of arrival.
    signed: Mutex<Vec<(String, String)>>,
    /// The role session each access key AssumeRole handed out belongs to.
    sessions: Mutex<BTreeMap<String, String>>,
    /// The `RoleArn` of every AssumeRole, in order of arrival.
    assumed: Mutex<Vec<String>>,
    /// The parameters of every forwarded query-protocol call (IAM, STS), a
    /// password left out, in order of arrival.
    sent: Mutex<Vec<(String, BTreeMap<String, String>)>>,
}

/// A call counted in flight until it is answered, or its caller goes.
struct InFlight<'a> {
    state: &'a State,
    service: &'static str,
}

impl<'a> InFlight<'a> {
    fn enter(state: &'a State, service: &'static str) -> Self {
        let mut in_flight = lock(&state.in_flight);
        let (now, most) = in_flight.entry(service).or_default();
        *now += 1;
        *most = (*most).max(*now);
        InFlight { state, service }
    }
}

impl Drop for InFlight<'_> {
    fn drop(&mut self) {
        if let Some((now, _)) = lock(&self.state.in_flight).get_mut(self.service) {
            *now -= 1;
        }
    }
}

/// Tests share the state with the proxy's tasks; a panic in one must not
/// hide the figures from the assertion that explains it.
fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

impl Wire {
    /// Proxies a free loopback port to moto at `target` (`http://127.0.0.1:port`),
    /// passing every call until `inject`.
    pub async fn start(target: &str) -> Wire {
        let target = target
            .trim_start_matches("http://")
            .parse()
            .unwrap_or_else(|err| panic!("moto endpoint {target}: {err}"));
        let seed = match std::env::var("WIRE_SEED") {
            Ok(seed) => seed.parse().expect("WIRE_SEED is a number"),
            Err(_) => rand::random(),
        };
        println!("wire: faults seeded with {seed}; replay with WIRE_SEED={seed}");
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind a loopback port");
        let address = listener.local_addr().expect("local address");
        let (trapped, trapped_rx) = mpsc::unbounded_channel();
        let state = Arc::new(State {
            target,
            faults: Mutex::new(None),
            rng: Mutex::new(StdRng::seed_from_u64(seed)),
            tally: Mutex::default(),
            traps: Mutex::default(),
            trapped,
            release: watch::Sender::new(0),
            server_errors: AtomicUsize::new(0),
            in_flight: Mutex::default(),
            signed: Mutex::default(),
            sessions: Mutex::default(),
            assumed: Mutex::default(),
            sent: Mutex::default(),
        });
        let accepting = state.clone();
        let task = serve_each(listener, move |stream| serve(stream, accepting.clone()));
        Wire {
            address,
            seed,
            state,
            trapped: tokio::sync::Mutex::new(trapped_rx),
            task,
        }
    }

    /// What the SDK is given in place of moto's endpoint.
    pub fn endpoint(&self) -> String {
        format!("http://{}", self.address)
    }

    pub fn seed(&self) -> u64 {
        self.seed
    }

    /// From now on calls get faults as `faults` says, replacing what was set before.
    pub fn inject(&self, faults: Faults) {
        *lock(&self.state.faults) = Some((faults, BTreeMap::new()));
    }

    /// From now on every call passes.
    pub fn calm(&self) {
        *lock(&self.state.faults) = None;
    }

    pub fn tally(&self) -> Tally {
        lock(&self.state.tally).clone()
    }

    /// The next forwarded call of each of `operations` is held once moto
    /// has carried it out, its answer kept from the caller until `release`:
    /// the moment to kill the caller is then the worst one. Each trap fires once.
    pub fn trap(&self, operations: &[&str]) {
        lock(&self.state.traps).extend(operations.iter().map(|op| op.to_string()));
    }

    /// The operation of the next call a trap holds, and when moto answered
    /// it, once a trap holds one.
    pub async fn trapped(&self) -> (String, Instant) {
        let mut trapped = self.trapped.lock().await;
        trapped.recv().await.expect("the proxy keeps its sender")
    }

    /// The calls traps hold now, or held and were released, not yet taken by `trapped`.
    pub async fn also_trapped(&self) -> Vec<(String, Instant)> {
        let mut trapped = self.trapped.lock().await;
        std::iter::from_fn(|| trapped.try_recv().ok()).collect()
    }

    /// The most calls to `service` ("iam", "sts", "organizations") that
    /// waited for their answer at once.
    pub fn most_in_flight(&self, service: &str) -> usize {
        lock(&self.state.in_flight).get(service).map_or(0, |(_, most)| *most)
    }

    /// The role session names of the credentials that signed the
    /// forwarded calls of `operation` (an assumed role's; the caller's own
    /// credentials, which no AssumeRole handed out, read as "(own)").
    pub fn sessions_of(&self, operation: &str) -> Vec<String> {
        let sessions = lock(&self.state.sessions);
        lock(&self.state.signed)
            .iter()
            .filter(|(op, _)| op == operation)
            .map(|(_, key)| sessions.get(key).cloned().unwrap_or_else(|| "(own)".into()))
            .collect()
    }

    /// The parameters the forwarded calls of `operation` carried, in order
    /// (a `Password` left out): what the operator sent, where moto keeps less.
    pub fn sent(&self, operation: &str) -> Vec<BTreeMap<String, String>> {
        lock(&self.state.sent)
            .iter()
            .filter(|(op, _)| op == operation)
            .map(|(_, params)| params.clone())
            .collect()
    }

    /// The roles AssumeRole was asked for so far, in order.
    pub fn assumed_roles(&self) -> Vec<String> {
        lock(&self.state.assumed).clone()
    }

    /// The traps not fired yet.
    pub fn armed(&self) -> Vec<String> {
        lock(&self.state.traps).clone()
    }

    /// Lets every held answer go (to a caller that may be gone).
    pub fn release(&self) {
        self.state.release.send_modify(|generation| *generation += 1);
    }
}

/// One client connection: HTTP/1.1 with keep-alive, as the SDK speaks it.
async fn serve(stream: TcpStream, state: Arc<State>) {
    let abort = Arc::new(AtomicBool::new(false));
    let io = TokioIo::new(Abortable {
        stream,
        abort: abort.clone(),
    });
    let service = service_fn(move |request| {
        let (state, abort) = (state.clone(), abort.clone());
        async move { state.handle(request, &abort).await }
    });
    // Ends in an error when the client goes, or when a Reset drops it: both expected.
    let _ = hyper::server::conn::http1::Builder::new()
        .serve_connection(io, service)
        .await;
}

type Answer = Response<Full<Bytes>>;

impl State {
    /// Answers `request`, or fails to close the connection without an answer.
    async fn handle(self: Arc<Self>, request: Request<Incoming>, abort: &AtomicBool) -> Result<Answer, io::Error> {
        let (parts, body) = request.into_parts();
        let body = body.collect().await.map_err(io::Error::other)?.to_bytes();
        let call = Call::of(&parts.headers, &body);
        let _counted = InFlight::enter(&self, call.service());
        match self.draw(&call.operation) {
            None => self.carry_out(&call.operation, Request::from_parts(parts, body)).await,
            Some(Fault::Throttle) => Ok(call.throttled()),
            Some(Fault::ServerError) => Ok(self.server_error(&call)),
            Some(Fault::Reset) => {
                abort.store(true, Ordering::Relaxed);
                Err(io::Error::new(io::ErrorKind::ConnectionReset, "injected reset"))
            }
            Some(Fault::LostAnswer) => {
                self.carry_out(&call.operation, Request::from_parts(parts, body))
                    .await?;
                Ok(self.server_error(&call))
            }
        }
    }

    /// Whether this call gets a fault, and which; counts it.
    fn draw(&self, operation: &str) -> Option<Fault> {
        let mut faults = lock(&self.faults);
        let (active, given) = faults.as_mut()?;
        let given = given.entry(operation.to_owned()).or_default();
        if !(active.only.is_empty() || active.only.contains(&operation)) || active.limit.is_some_and(|l| *given >= l) {
            return None;
        }
        let mut rng = lock(&self.rng);
        if !rng.random_bool(active.rate) {
            return None;
        }
        let kind = active.kinds[rng.random_range(0..active.kinds.len())];
        *given += 1;
        *lock(&self.tally)
            .injected
            .entry((kind, operation.to_owned()))
            .or_default() += 1;
        Some(kind)
    }

    /// In turns, a 500 in the protocol's own error format, as AWS sends one,
    /// and a bare 503, as a load balancer in front of it does: both are
    /// transient, and the caller must take them so.
    fn server_error(&self, call: &Call) -> Answer {
        match self.server_errors.fetch_add(1, Ordering::Relaxed) % 2 {
            0 => call.internal_error(),
            _ => bare(StatusCode::SERVICE_UNAVAILABLE),
        }
    }

    /// Has moto carry the call out, counts it and springs its trap: to the
    /// end even when the caller goes away meanwhile (killed), as a server
    /// carries out a request it received. A trap sprung by a caller that is
    /// gone still fires, or it would wait for a call the next run never makes.
    async fn carry_out(self: &Arc<Self>, operation: &str, request: Request<Bytes>) -> Result<Answer, io::Error> {
        let (state, operation) = (self.clone(), operation.to_owned());
        let exchange = tokio::spawn(async move {
            let answer = state.forward(request).await?;
            *lock(&state.tally).forwarded.entry(operation.clone()).or_default() += 1;
            state.hold_if_trapped(&operation).await;
            Ok(answer)
        });
        exchange.await.map_err(io::Error::other)?
    }

    /// Sends the call to moto on a connection of its own, so that no pooled
    /// connection moto closed meanwhile can fail it.
    async fn forward(&self, request: Request<Bytes>) -> Result<Answer, io::Error> {
        let stream = TcpStream::connect(self.target).await?;
        let (mut sender, connection) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
            .await
            .map_err(io::Error::other)?;
        tokio::spawn(connection);
        let (parts, body) = request.into_parts();
        let signer = access_key(&parts.headers);
        let form = String::from_utf8_lossy(&body).into_owned();
        let answer = sender
            .send_request(Request::from_parts(parts, Full::new(body)))
            .await
            .map_err(io::Error::other)?;
        let (mut parts, body) = answer.into_parts();
        let body = body.collect().await.map_err(io::Error::other)?.to_bytes();
        self.note_signer(&form, signer, &body);
        // The client's connection is the proxy's to keep or close, not moto's.
        for hop in ["connection", "keep-alive", "transfer-encoding"] {
            parts.headers.remove(hop);
        }
        Ok(Response::from_parts(parts, Full::new(body)))
    }

    /// Records who signed a call, and which session an AssumeRole's new
    /// access key belongs to (from its `RoleSessionName` and its answer).
    fn note_signer(&self, form: &str, signer: Option<String>, answer: &[u8]) {
        let param = |name: &str| {
            form.split('&')
                .find_map(|pair| pair.strip_prefix(&format!("{name}=")))
                .map(|value| {
                    percent_encoding::percent_decode_str(value)
                        .decode_utf8_lossy()
                        .into_owned()
                })
        };
        let Some(operation) = param("Action") else {
            return;
        };
        let params = form
            .split('&')
            .filter_map(|pair| pair.split_once('='))
            .filter(|(name, _)| *name != "Password")
            .map(|(name, value)| {
                let decode = |text: &str| {
                    percent_encoding::percent_decode_str(&text.replace('+', " "))
                        .decode_utf8_lossy()
                        .into_owned()
                };
                (decode(name), decode(value))
            })
            .collect();
        lock(&self.sent).push((operation.clone(), params));
        if let Some(key) = signer {
            lock(&self.signed).push((operation.clone(), key));
        }
        if operation == "AssumeRole" {
            lock(&self.assumed).extend(param("RoleArn"));
            let answer = String::from_utf8_lossy(answer);
            let key = answer
                .split_once("<AccessKeyId>")
                .and_then(|(_, rest)| rest.split_once("</AccessKeyId>"))
                .map(|(key, _)| key.trim().to_owned());
            if let (Some(key), Some(session)) = (key, param("RoleSessionName")) {
                lock(&self.sessions).insert(key, session);
            }
        }
    }

    async fn hold_if_trapped(&self, operation: &str) {
        let fired = {
            let mut traps = lock(&self.traps);
            let position = traps.iter().position(|trap| trap == operation);
            position.map(|at| traps.remove(at)).is_some()
        };
        if fired {
            let mut released = self.release.subscribe();
            // The test may have stopped listening; the answer is held all the same.
            let _ = self.trapped.send((operation.to_owned(), Instant::now()));
            let _ = released.changed().await;
        }
    }
}

/// The AWS protocol a call came in, and its operation.
struct Call {
    operation: String,
    json: bool,
}

impl Call {
    /// JSON 1.1 (Organizations) names the operation in `X-Amz-Target`; the
    /// query protocol (IAM, STS) in the form body's `Action`.
    fn of(headers: &hyper::HeaderMap, body: &[u8]) -> Call {
        if let Some(target) = headers.get("x-amz-target").and_then(|v| v.to_str().ok()) {
            let operation = target.rsplit('.').next().unwrap_or(target);
            return Call {
                operation: operation.to_owned(),
                json: true,
            };
        }
        let form = String::from_utf8_lossy(body);
        let operation = form
            .split('&')
            .find_map(|pair| pair.strip_prefix("Action="))
            .unwrap_or("Unknown");
        Call {
            operation: operation.to_owned(),
            json: false,
        }
    }

    /// Organizations speaks JSON; IAM and STS share the query protocol.
    fn service(&self) -> &'static str {
        match (self.json, self.operation.as_str()) {
            (true, _) => "organizations",
            (false, "AssumeRole" | "GetCallerIdentity") => "sts",
            (false, _) => "iam",
        }
    }

    fn throttled(&self) -> Answer {
        match self.json {
            true => self.error(StatusCode::BAD_REQUEST, "TooManyRequestsException", "Sender"),
            false => self.error(StatusCode::BAD_REQUEST, "Throttling", "Sender"),
        }
    }

    fn internal_error(&self) -> Answer {
        match self.json {
            true => self.error(StatusCode::INTERNAL_SERVER_ERROR, "ServiceException", "Receiver"),
            false => self.error(StatusCode::INTERNAL_SERVER_ERROR, "ServiceFailure", "Receiver"),
        }
    }

    /// An error as the service words it: JSON with `__type`, or the query
    /// protocol's `ErrorResponse` XML.
    fn error(&self, status: StatusCode, code: &str, fault: &str) -> Answer {
        let message = format!("injected by the test proxy into {}", self.operation);
        let request_id = format!("wire-{:016x}", rand::random::<u64>());
        let (content_type, body) = match self.json {
            true => (
                "application/x-amz-json-1.1",
                serde_json::json!({"__type": code, "message": message}).to_string(),
            ),
            false => (
                "text/xml",
                format!(
                    "<ErrorResponse><Error><Type>{fault}</Type><Code>{code}</Code><Message>{message}</Message></Error><RequestId>{request_id}</RequestId></ErrorResponse>"
                ),
            ),
        };
        let mut answer = Response::new(Full::new(Bytes::from(body)));
        *answer.status_mut() = status;
        answer
            .headers_mut()
            .insert(CONTENT_TYPE, HeaderValue::from_static(content_type));
        if let Ok(id) = HeaderValue::from_str(&request_id) {
            answer.headers_mut().insert("x-amzn-requestid", id);
        }
        answer
    }
}

fn bare(status: StatusCode) -> Answer {
    let mut answer = Response::new(Full::new(Bytes::new()));
    *answer.status_mut() = status;
    answer
}

/// A client connection that, when a Reset fault dropped it, closes with a
/// TCP reset rather than an orderly shutdown.
struct Abortable {
    stream: TcpStream,
    abort: Arc<AtomicBool>,
}

impl Drop for Abortable {
    fn drop(&mut self) {
        if self.abort.load(Ordering::Relaxed) {
            // Failing leaves an orderly close, which the client sees as much the same.
            let _ = self.stream.set_zero_linger();
        }
    }
}

impl AsyncRead for Abortable {
    fn poll_read(mut self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &mut ReadBuf<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.stream).poll_read(cx, buf)
    }
}

impl AsyncWrite for Abortable {
    fn poll_write(mut self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.stream).poll_write(cx, buf)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.stream).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.stream).poll_shutdown(cx)
    }
}

/// The access key id a SigV4 `Authorization` header names (`Credential=AKID/...`).
fn access_key(headers: &hyper::HeaderMap) -> Option<String> {
    let authorization = headers.get("authorization")?.to_str().ok()?;
    let credential = authorization.split("Credential=").nth(1)?;
    Some(credential.split('/').next()?.to_owned())
}
