//! Progress bars (only on a terminal, only when asked for) and the worker pool.

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

use crate::error::{Error, Result};
use crate::options::{Options, ProgressBars};

/// A progress bar on stderr when asked for and stderr is a terminal; silent otherwise.
pub(crate) struct Progress(ProgressBar);

impl Progress {
    pub(crate) fn new(options: &Options, len: u64, what: &str) -> Self {
        let target = match options.progress {
            ProgressBars::Terminal => ProgressDrawTarget::stderr(),
            ProgressBars::Hidden => ProgressDrawTarget::hidden(),
        };
        let bar = ProgressBar::with_draw_target(Some(len), target);
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

/// A rayon pool with `options.jobs` threads (all cores when `None`), but never more threads
/// than the machine has cores: the work is CPU-bound and every thread holds a map or a mask in
/// memory, so 1024 jobs on 2 cores would only add memory and switching.
pub(crate) fn thread_pool(options: &Options) -> Result<rayon::ThreadPool> {
    let mut b = rayon::ThreadPoolBuilder::new();
    if let Some(j) = options.jobs {
        let cores = std::thread::available_parallelism().map_or(1, usize::from);
        b = b.num_threads(j.clamp(1, cores));
    }
    b.build().map_err(Error::Threads)
}

/// A pool for `work` items: [`thread_pool`], but never more threads than items (at least 1).
pub(crate) fn thread_pool_for(options: &Options, work: usize) -> Result<rayon::ThreadPool> {
    let cores = std::thread::available_parallelism().map_or(1, usize::from);
    let jobs = options.jobs.unwrap_or(cores).min(work).max(1);
    thread_pool(&Options {
        jobs: Some(jobs),
        ..options.clone()
    })
}
