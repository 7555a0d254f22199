//! The Deployment, its ReplicaSet and the kubelet, over real processes: a
//! pod is the app binary started with the pod template's `env` on a
//! loopback port; its startup and readiness probes are real HTTP requests
//! on the template's schedule; deleting a pod takes it out of the Service
//! and of Prometheus' discovery at once, sleeps the preStop time, sends
//! SIGTERM and, after the grace period, SIGKILL.
//! Modelled: the probe scheduling (the kubelet's; failure thresholds and
//! restarts are not, the app starts at once), the ReplicaSet's choice of
//! the pod to delete (not ready first, then the newest), and no time for
//! scheduling or pulling an image. Times are cluster seconds.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

use crate::common::{http10_get, listening_addr};
use crate::e2e::hpa::Phase;
use crate::e2e::manifests::{PodTemplate, Probe};

struct Pod {
    name: String,
    child: Child,
    addr: SocketAddr,
    created: f64,
    started: bool,
    ready: bool,
    /// Next tick of the startup, then readiness, probe.
    next_probe: f64,
    deleted: Option<f64>,
    sigterm_sent: bool,
}

/// How pods ended: by themselves after SIGTERM, or killed at the grace period.
#[derive(Default, Debug, Clone, Copy)]
pub struct Exits {
    pub clean: u32,
    pub killed: u32,
}

pub struct Deployment {
    template: PodTemplate,
    app_bin: PathBuf,
    pods: Vec<Pod>,
    /// `spec.replicas`, as the HPA sets it.
    pub replicas: u32,
    created: u32,
    pub exits: Exits,
}

impl Deployment {
    pub fn new(template: PodTemplate, app_bin: &Path) -> Deployment {
        Deployment {
            template,
            app_bin: app_bin.to_owned(),
            pods: Vec::new(),
            replicas: 0,
            created: 0,
            exits: Exits::default(),
        }
    }

    /// The ReplicaSet's reaction to a new `spec.replicas`.
    pub fn scale_to(&mut self, now: f64, replicas: u32) {
        self.replicas = replicas;
        let mut live: Vec<usize> = (0..self.pods.len())
            .filter(|&i| self.pods[i].deleted.is_none())
            .collect();
        while live.len() < replicas as usize {
            let pod = self.start_pod(now);
            self.pods.push(pod);
            live.push(self.pods.len() - 1);
        }
        // Delete not-ready pods first, then the most recently created.
        live.sort_by(|&a, &b| {
            let (a, b) = (&self.pods[a], &self.pods[b]);
            a.ready.cmp(&b.ready).then(b.created.total_cmp(&a.created))
        });
        for &i in live.iter().take(live.len().saturating_sub(replicas as usize)) {
            self.pods[i].deleted = Some(now);
        }
    }

    fn start_pod(&mut self, now: f64) -> Pod {
        use std::io::BufRead;
        self.created += 1;
        let mut child = Command::new(&self.app_bin)
            .args(["--listen", "127.0.0.1:0"])
            .envs(
                self.template
                    .env
                    .iter()
                    .filter(|(k, _)| k != "CMA_LISTEN")
                    .map(|(k, v)| (k, v)),
            )
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap_or_else(|e| panic!("start {}: {e}", self.app_bin.display()));
        let mut lines = std::io::BufReader::new(child.stderr.take().unwrap()).lines();
        let first = lines.next().expect("a start-up line").expect("utf-8");
        // Keep draining stderr so the pod never blocks on a full pipe.
        std::thread::spawn(move || for _ in lines {});
        Pod {
            name: format!("custom-metrics-app-lab-{}", self.created),
            child,
            addr: listening_addr(&first),
            created: now,
            started: self.template.startup.is_none(),
            ready: false,
            next_probe: now,
            deleted: None,
            sigterm_sent: false,
        }
    }

    /// Probes that are due, terminations that advance, exits reaped.
    pub fn tick(&mut self, now: f64) {
        let (startup, readiness) = (self.template.startup.clone(), self.template.readiness.clone());
        let (pre_stop, grace) = (self.template.pre_stop_seconds, self.template.grace_seconds);
        for pod in &mut self.pods {
            if let Some(deleted) = pod.deleted {
                pod.ready = false;
                if !pod.sigterm_sent && now >= deleted + pre_stop {
                    signal(&pod.child, libc::SIGTERM);
                    pod.sigterm_sent = true;
                }
                if now >= deleted + grace {
                    signal(&pod.child, libc::SIGKILL);
                }
                continue;
            }
            if now < pod.next_probe {
                continue;
            }
            match (&startup, pod.started) {
                (Some(s), false) => {
                    // The readiness worker's ticks run from the container's
                    // start too; they count once the startup probe passed.
                    pod.started = probe_ok(pod.addr, s);
                    let period = if pod.started {
                        readiness.period_seconds
                    } else {
                        s.period_seconds
                    };
                    pod.next_probe = next_tick(pod.next_probe, period, now);
                }
                _ => {
                    pod.ready = probe_ok(pod.addr, &readiness);
                    pod.next_probe = next_tick(pod.next_probe, readiness.period_seconds, now);
                }
            }
        }
        let exits = &mut self.exits;
        self.pods.retain_mut(|pod| match pod.child.try_wait() {
            Ok(Some(status)) => {
                if status.code().is_some() {
                    exits.clean += 1;
                } else {
                    exits.killed += 1;
                }
                false
            }
            _ => true,
        });
    }

    /// What the HPA's pod lister sees: every pod of the selector.
    pub fn hpa_view(&self) -> Vec<(String, Phase)> {
        self.pods
            .iter()
            .map(|p| {
                let phase = if p.deleted.is_some() {
                    Phase::Deleting
                } else {
                    Phase::Running
                };
                (p.name.clone(), phase)
            })
            .collect()
    }

    /// The Service's endpoints: ready and not terminating.
    pub fn endpoints(&self) -> Vec<SocketAddr> {
        self.pods
            .iter()
            .filter(|p| p.ready && p.deleted.is_none())
            .map(|p| p.addr)
            .collect()
    }

    /// What Prometheus discovers: the pods not terminating, ready or not.
    pub fn discovered(&self) -> Vec<(String, SocketAddr)> {
        self.pods
            .iter()
            .filter(|p| p.deleted.is_none())
            .map(|p| (p.name.clone(), p.addr))
            .collect()
    }

    pub fn ready(&self) -> u32 {
        self.endpoints().len() as u32
    }

    pub fn terminating(&self) -> u32 {
        self.pods.iter().filter(|p| p.deleted.is_some()).count() as u32
    }

    /// Deletes every pod and waits (bounded by the grace period) for them.
    pub fn shut_down(&mut self, clock: impl Fn() -> f64) {
        let now = clock();
        self.scale_to(now, 0);
        while !self.pods.is_empty() && clock() < now + self.template.grace_seconds + 5.0 {
            self.tick(clock());
            std::thread::sleep(std::time::Duration::from_millis(50));
        }
        for pod in &mut self.pods {
            let _ = pod.child.kill();
            let _ = pod.child.wait();
        }
    }
}

impl Drop for Deployment {
    fn drop(&mut self) {
        for pod in &mut self.pods {
            let _ = pod.child.kill();
            let _ = pod.child.wait();
        }
    }
}

fn signal(child: &Child, signal: libc::c_int) {
    // SAFETY: kill(2) on the pid of a child this process has not reaped yet.
    unsafe { libc::kill(child.id() as libc::pid_t, signal) };
}

/// The probe's next tick on its schedule; after a stall, one period from
/// now rather than a burst of catch-up probes.
fn next_tick(last: f64, period: f64, now: f64) -> f64 {
    let next = last + period;
    if next < now {
        now + period
    } else {
        next
    }
}

fn probe_ok(addr: SocketAddr, probe: &Probe) -> bool {
    // Kubernetes: 200 ≤ status < 400 is a success.
    http10_get(addr, &probe.path).is_some_and(|(status, _)| (200..400).contains(&status))
}
