//! A safe, non-executing reader and a writer for CheXlocalize heatmap pickles (legacy torch serialisation).
#![deny(missing_docs)]
