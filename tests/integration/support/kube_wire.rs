//! A recording HTTP proxy between the operator and kube-testserver: what
//! the API server sent, request by request, as it went over the wire,
//! watches included (their frames are recorded as they stream).

use std::net::SocketAddr;
use std::sync::{Arc, Mutex, PoisonError};

use bytes::Bytes;
use http_body_util::BodyExt;
use hyper::body::{Frame, Incoming};
use hyper::service::service_fn;
use hyper::{Request, Response};
use hyper_util::rt::TokioIo;
use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinHandle;

use super::proxy::serve_each;

/// One request and everything answered to it so far.
#[derive(Clone, Debug, Default)]
pub struct Exchange {
    pub path_and_query: String,
    pub answer: Vec<u8>,
}

type Exchanges = Arc<Mutex<Vec<Exchange>>>;

pub struct KubeWire {
    address: SocketAddr,
    exchanges: Exchanges,
    task: JoinHandle<()>,
}

impl Drop for KubeWire {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl KubeWire {
    pub async fn start(target: SocketAddr) -> KubeWire {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let address = listener.local_addr().unwrap();
        let exchanges = Exchanges::default();
        let recorded = exchanges.clone();
        let task = serve_each(listener, move |stream| serve(stream, target, recorded.clone()));
        KubeWire {
            address,
            exchanges,
            task,
        }
    }

    /// A kube client that reaches the API server through this proxy.
    pub fn client(&self) -> kube::Client {
        let url = format!("http://{}", self.address).parse().unwrap();
        kube::Client::try_from(kube::Config::new(url)).unwrap()
    }

    pub fn exchanges(&self) -> Vec<Exchange> {
        self.exchanges.lock().unwrap_or_else(PoisonError::into_inner).clone()
    }
}

async fn serve(stream: TcpStream, target: SocketAddr, exchanges: Exchanges) {
    let service = service_fn(move |request: Request<Incoming>| forward(request, target, exchanges.clone()));
    let _ = hyper::server::conn::http1::Builder::new()
        .serve_connection(TokioIo::new(stream), service)
        .await;
}

async fn forward(
    request: Request<Incoming>,
    target: SocketAddr,
    exchanges: Exchanges,
) -> Result<Response<http_body_util::combinators::BoxBody<Bytes, hyper::Error>>, hyper::Error> {
    let index = {
        let mut exchanges = exchanges.lock().unwrap_or_else(PoisonError::into_inner);
        exchanges.push(Exchange {
            path_and_query: request
                .uri()
                .path_and_query()
                .map(ToString::to_string)
                .unwrap_or_default(),
            answer: vec![],
        });
        exchanges.len() - 1
    };
    let upstream = TcpStream::connect(target).await.unwrap();
    let (mut sender, connection) = hyper::client::conn::http1::handshake(TokioIo::new(upstream)).await?;
    tokio::spawn(connection);
    let answer = sender.send_request(request).await?;
    Ok(answer.map(move |body| {
        body.map_frame(move |frame: Frame<Bytes>| {
            if let Some(data) = frame.data_ref() {
                let mut exchanges = exchanges.lock().unwrap_or_else(PoisonError::into_inner);
                exchanges[index].answer.extend_from_slice(data);
            }
            frame
        })
        .boxed()
    }))
}
