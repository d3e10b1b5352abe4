//! The HTTP side of `cargo xtask bench server` (see `bench_server`): a small blocking facade
//! over a 2-thread tokio runtime and one reqwest client, for `/metrics`, the submissions API,
//! and the concurrent readers of the leaderboard.

use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail, ensure};

/// The benchmark's HTTP client.
pub(crate) struct Http {
    rt: tokio::runtime::Runtime,
    client: reqwest::Client,
}

/// A burst of GETs: each one's latency (seconds), the burst's wall time and a body's size.
pub(crate) struct Load {
    /// Latency of each GET, sorted.
    pub(crate) latencies: Vec<f64>,
    /// Seconds from the first GET's start to the last one's end.
    pub(crate) wall: f64,
    /// Bytes of the last body read.
    pub(crate) body_bytes: usize,
}

impl Load {
    /// The `q` quantile of the latencies (nearest rank; 1.0 is the maximum).
    pub(crate) fn p(&self, q: f64) -> f64 {
        percentile(&self.latencies, q)
    }

    /// GETs per second over the burst.
    pub(crate) fn per_second(&self) -> f64 {
        self.latencies.len() as f64 / self.wall
    }
}

/// The `q` quantile of `v` by nearest rank (NaN when empty).
pub(crate) fn percentile(v: &[f64], q: f64) -> f64 {
    let mut s = v.to_vec();
    s.sort_by(f64::total_cmp);
    if s.is_empty() {
        return f64::NAN;
    }
    let rank = ((q * s.len() as f64).ceil() as usize).clamp(1, s.len());
    s[rank - 1]
}

impl Http {
    /// A 2-thread runtime (the machine's cores) and a client with a 60 s timeout.
    pub(crate) fn new() -> Result<Http> {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .context("starting the benchmark's tokio runtime")?;
        let client = reqwest::Client::builder()
            .timeout(Duration::from_secs(60))
            .build()
            .context("starting the benchmark's HTTP client")?;
        Ok(Http { rt, client })
    }

    /// `GET url` (with a bearer token) as JSON; an error on a status other than 2xx.
    pub(crate) fn get_json(&self, url: &str, token: Option<&str>) -> Result<serde_json::Value> {
        self.rt.block_on(async {
            let mut req = self.client.get(url);
            if let Some(t) = token {
                req = req.bearer_auth(t);
            }
            let r = req.send().await.with_context(|| format!("GET {url}"))?;
            let status = r.status();
            let text = r.text().await.with_context(|| format!("GET {url}"))?;
            ensure!(status.is_success(), "GET {url}: {status}: {text}");
            serde_json::from_str(&text).with_context(|| format!("GET {url}: expected JSON"))
        })
    }

    /// The value of a sample of `base/metrics` (`name` with its labels, e.g.
    /// `chexlocalize_submissions{status="scored"}`); 0 when absent.
    pub(crate) fn metric(&self, base: &str, name: &str) -> Result<f64> {
        let url = format!("{base}/metrics");
        let text = self.rt.block_on(async {
            let r = self
                .client
                .get(&url)
                .send()
                .await
                .with_context(|| format!("GET {url}"))?;
            ensure!(r.status().is_success(), "GET {url}: {}", r.status());
            r.text().await.with_context(|| format!("GET {url}"))
        })?;
        for line in text.lines().filter(|l| !l.starts_with('#')) {
            if let Some((key, value)) = line.rsplit_once(' ') {
                if key == name {
                    return value
                        .parse()
                        .with_context(|| format!("{url}: expected a number for {name}"));
                }
            }
        }
        Ok(0.0)
    }

    /// Waits (asking `/metrics` every 50 ms) until `n` submissions are scored; an error when
    /// one is invalid or failed, or after `timeout`.
    pub(crate) fn wait_scored(&self, base: &str, n: usize, timeout: Duration) -> Result<()> {
        let by = |s: &str| format!("chexlocalize_submissions{{status=\"{s}\"}}");
        let deadline = Instant::now() + timeout;
        loop {
            let scored = self.metric(base, &by("scored"))?;
            let bad = self.metric(base, &by("invalid"))? + self.metric(base, &by("failed"))?;
            if bad > 0.0 {
                bail!("{base}: {bad} submission(s) invalid or failed (see its serve.log)");
            }
            if scored >= n as f64 {
                return Ok(());
            }
            if Instant::now() > deadline {
                bail!(
                    "{base}: {scored} of {n} submissions scored after {} s",
                    timeout.as_secs()
                );
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// `readers` concurrent tasks, each `gets` GETs of `url` in a row; every answer must be 200.
    pub(crate) fn load(&self, url: &str, readers: usize, gets: usize) -> Result<Load> {
        self.rt.block_on(async {
            let t = Instant::now();
            let tasks: Vec<_> = (0..readers)
                .map(|_| {
                    let (client, url) = (self.client.clone(), url.to_owned());
                    tokio::spawn(async move {
                        let mut lat = Vec::with_capacity(gets);
                        let mut size = 0;
                        for _ in 0..gets {
                            let t = Instant::now();
                            let r = client.get(&url).send().await?;
                            ensure!(r.status().is_success(), "GET {url}: {}", r.status());
                            size = r.bytes().await?.len();
                            lat.push(t.elapsed().as_secs_f64());
                        }
                        Ok::<_, anyhow::Error>((lat, size))
                    })
                })
                .collect();
            let mut latencies = Vec::with_capacity(readers * gets);
            let mut body_bytes = 0;
            for task in tasks {
                let (lat, size) = task.await.context("a reader task")??;
                latencies.extend(lat);
                body_bytes = size;
            }
            let wall = t.elapsed().as_secs_f64();
            latencies.sort_by(f64::total_cmp);
            Ok(Load {
                latencies,
                wall,
                body_bytes,
            })
        })
    }
}
