//! What every stage takes besides its own inputs ([`Options`]) and what it returns besides its
//! result ([`Outcome`], [`Note`]).

use std::path::PathBuf;
use std::sync::Mutex;

use chexlocalize_io::Limits;

/// Options shared by every stage. Each call takes its own: calls on different threads with
/// different options do not affect each other (there is no process-global state).
#[derive(Clone, Debug)]
pub struct Options {
    /// What input files may claim before anything is allocated for them.
    pub limits: Limits,
    /// Worker threads (`None`: one per core; never more than the machine has cores).
    pub jobs: Option<usize>,
    /// Whether long stages draw a progress bar on stderr.
    pub progress: ProgressBars,
}

impl Default for Options {
    /// The built-in limits, one thread per core, no progress bars.
    fn default() -> Self {
        Options {
            limits: Limits::BUILTIN,
            jobs: None,
            progress: ProgressBars::Hidden,
        }
    }
}

/// Progress bars of long stages.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum ProgressBars {
    /// None (a library call, a server).
    #[default]
    Hidden,
    /// On stderr, when it is a terminal (the command line).
    Terminal,
}

/// What a stage wrote, and what it has to say about its inputs.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Outcome {
    /// The files written, in order.
    pub written: Vec<PathBuf>,
    /// Warnings about the inputs and a closing line, in the order they arose.
    pub notes: Vec<Note>,
}

/// A message of a stage: a warning about an input (a skipped file, a point outside its image,
/// a statistic left NaN), or information (what was written where).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Note {
    /// How serious it is.
    pub level: Level,
    /// The message, as the command line prints it.
    pub text: String,
}

/// How serious a [`Note`] is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Level {
    /// What a stage did.
    Info,
    /// Something about the inputs a user should look at; the results are still made.
    Warning,
}

impl std::fmt::Display for Note {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.text)
    }
}

/// The notes of one call, collected from its worker threads.
#[derive(Debug, Default)]
pub(crate) struct Notes(Mutex<Vec<Note>>);

impl Notes {
    fn push(&self, level: Level, text: String) {
        // A poisoned lock means a worker panicked; its notes are still worth keeping.
        let mut v = self.0.lock().unwrap_or_else(|p| p.into_inner());
        v.push(Note { level, text });
    }

    /// A warning about an input.
    pub(crate) fn warn(&self, text: impl Into<String>) {
        self.push(Level::Warning, text.into());
    }

    /// What was done.
    pub(crate) fn info(&self, text: impl Into<String>) {
        self.push(Level::Info, text.into());
    }

    /// The outcome of a stage that wrote `written`.
    pub(crate) fn outcome(self, written: Vec<PathBuf>) -> Outcome {
        Outcome {
            written,
            notes: self.0.into_inner().unwrap_or_else(|p| p.into_inner()),
        }
    }
}
