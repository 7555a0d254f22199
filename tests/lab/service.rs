//! The Service in front of the pods: a loopback TCP proxy that sends each
//! new connection to the next ready endpoint (round robin, as kube-proxy's
//! IPVS mode does; iptables mode picks at random). With `loadgen
//! --connection close` every request is a new connection, so the load
//! spreads over the ready pods, new ones included, as in a cluster.
//! Endpoints change at once when a pod turns ready or starts terminating
//! (a cluster takes a moment more; the Deployment's preStop sleep covers it).

use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::net::{TcpListener, TcpStream};

/// Connections the proxy could not hand to a pod, by cause.
#[derive(Default)]
pub struct Failures {
    /// No ready endpoint at the time.
    pub no_endpoint: AtomicU64,
    /// The chosen pod refused or did not answer the connection.
    pub refused: AtomicU64,
    /// The pod's side failed mid-exchange (reset).
    pub reset: AtomicU64,
}

impl Failures {
    pub fn total(&self) -> u64 {
        self.no_endpoint.load(Ordering::Relaxed)
            + self.refused.load(Ordering::Relaxed)
            + self.reset.load(Ordering::Relaxed)
    }
}

pub struct Service {
    pub addr: SocketAddr,
    endpoints: Arc<Mutex<Vec<SocketAddr>>>,
    pub failures: Arc<Failures>,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Service {
    pub fn start() -> Service {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind the Service");
        listener.set_nonblocking(true).unwrap();
        let addr = listener.local_addr().unwrap();
        let endpoints = Arc::new(Mutex::new(Vec::new()));
        let failures = Arc::new(Failures::default());
        let (stop, stopped) = tokio::sync::oneshot::channel();
        let (eps, fails) = (endpoints.clone(), failures.clone());
        let thread = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap();
            rt.block_on(async move {
                let listener = TcpListener::from_std(listener).unwrap();
                let next = Arc::new(AtomicUsize::new(0));
                tokio::select! {
                    _ = stopped => {}
                    _ = async {
                        loop {
                            let Ok((client, _)) = listener.accept().await else { continue };
                            tokio::spawn(forward(client, eps.clone(), next.clone(), fails.clone()));
                        }
                    } => {}
                }
            });
        });
        Service {
            addr,
            endpoints,
            failures,
            stop: Some(stop),
            thread: Some(thread),
        }
    }

    /// The ready, not terminating pods.
    pub fn set_endpoints(&self, ready: Vec<SocketAddr>) {
        *self.endpoints.lock().unwrap() = ready;
    }
}

impl Drop for Service {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

async fn forward(
    mut client: TcpStream,
    endpoints: Arc<Mutex<Vec<SocketAddr>>>,
    next: Arc<AtomicUsize>,
    failures: Arc<Failures>,
) {
    let pick = {
        let eps = endpoints.lock().unwrap();
        (!eps.is_empty()).then(|| eps[next.fetch_add(1, Ordering::Relaxed) % eps.len()])
    };
    let Some(pod) = pick else {
        failures.no_endpoint.fetch_add(1, Ordering::Relaxed);
        return;
    };
    let connect = tokio::time::timeout(Duration::from_secs(2), TcpStream::connect(pod)).await;
    let Ok(Ok(mut upstream)) = connect else {
        failures.refused.fetch_add(1, Ordering::Relaxed);
        return;
    };
    let _ = upstream.set_nodelay(true);
    let _ = client.set_nodelay(true);
    if tokio::io::copy_bidirectional(&mut client, &mut upstream).await.is_err() {
        failures.reset.fetch_add(1, Ordering::Relaxed);
    }
}
