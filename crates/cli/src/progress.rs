//! Progress bars (only on a terminal) and the worker pool.

use anyhow::{Context, Result};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

/// A progress bar on stderr when it is a terminal; silent otherwise.
pub(crate) struct Progress(ProgressBar);

impl Progress {
    pub(crate) fn new(len: u64, what: &str) -> Self {
        let bar = ProgressBar::with_draw_target(Some(len), ProgressDrawTarget::stderr());
        if let Ok(style) = ProgressStyle::with_template(
            "{msg:>12} [{bar:40}] {pos}/{len} {elapsed_precise} ETA {eta}",
        ) {
            bar.set_style(style.progress_chars("=> "));
        }
        bar.set_message(what.to_owned());
        Progress(bar)
    }

    pub(crate) fn inc(&self) {
        self.0.inc(1);
    }

    pub(crate) fn finish(&self) {
        self.0.finish_and_clear();
    }
}

/// A rayon pool with `jobs` threads (all cores when `None`), but never more threads than the
/// machine has cores: the work is CPU-bound and every thread holds a map or a mask in memory, so
/// `--jobs 1024` on 2 cores would only add memory and switching.
pub(crate) fn thread_pool(jobs: Option<usize>) -> Result<rayon::ThreadPool> {
    let mut b = rayon::ThreadPoolBuilder::new();
    if let Some(j) = jobs {
        let cores = std::thread::available_parallelism().map_or(1, usize::from);
        b = b.num_threads(j.clamp(1, cores));
    }
    b.build().context("starting worker threads")
}
