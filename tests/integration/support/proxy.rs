//! A TCP proxy in front of the API server whose route can be cut, so one
//! replica can be partitioned from the API server while the others still
//! reach it.

use std::net::SocketAddr;

use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;
use tokio::task::{JoinHandle, JoinSet};

/// What a cut route does to the replica's requests.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Cut {
    /// Open connections stop carrying bytes and new ones are never answered:
    /// requests hang until the client gives up, as when packets are dropped.
    Hang,
    /// Open connections are closed and new ones closed at once: requests fail
    /// quickly, as when the route is refused.
    Refuse,
}

pub struct Proxy {
    address: SocketAddr,
    cut: watch::Sender<Option<Cut>>,
    task: JoinHandle<()>,
}

impl Drop for Proxy {
    fn drop(&mut self) {
        // The accept task owns every connection's task, so they all go with it.
        self.task.abort();
    }
}

impl Proxy {
    /// Forwards a free loopback port to `target`.
    pub async fn start(target: SocketAddr) -> Proxy {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind a loopback port");
        let address = listener.local_addr().expect("local address");
        let cut = watch::Sender::new(None);
        let state = cut.subscribe();
        let task = serve_each(listener, move |stream| forward(stream, target, state.clone()));
        Proxy { address, cut, task }
    }

    /// A kube client that reaches the API server through this proxy.
    pub fn client(&self) -> kube::Client {
        let url = format!("http://{}", self.address).parse().expect("url");
        kube::Client::try_from(kube::Config::new(url)).expect("client")
    }

    pub fn cut(&self, how: Cut) {
        self.cut.send_replace(Some(how));
    }
}

async fn forward(mut client: TcpStream, target: SocketAddr, mut cut: watch::Receiver<Option<Cut>>) {
    let how = *cut.borrow();
    match how {
        Some(Cut::Refuse) => return,
        // Holding the socket open without reading keeps the client waiting.
        Some(Cut::Hang) => std::future::pending::<()>().await,
        None => {}
    }
    let Ok(mut server) = TcpStream::connect(target).await else {
        return;
    };
    let how = tokio::select! {
        _ = tokio::io::copy_bidirectional(&mut client, &mut server) => return,
        how = cut.wait_for(Option::is_some) => how.ok().and_then(|how| *how),
    };
    if how == Some(Cut::Hang) {
        std::future::pending::<()>().await;
    }
}

/// Accepts connections on `listener` until the returned task is aborted,
/// each served by `serve` in a task of its own that goes with it.
pub fn serve_each<F, Fut>(listener: TcpListener, serve: F) -> JoinHandle<()>
where
    F: Fn(TcpStream) -> Fut + Send + 'static,
    Fut: Future<Output = ()> + Send + 'static,
{
    tokio::spawn(async move {
        let mut connections = JoinSet::new();
        loop {
            tokio::select! {
                accepted = listener.accept() => {
                    let Ok((stream, _)) = accepted else { continue };
                    connections.spawn(serve(stream));
                }
                Some(_) = connections.join_next() => {}
            }
        }
    })
}
