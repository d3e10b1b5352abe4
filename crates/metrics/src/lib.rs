//! IoU, pointing game and seeded bootstrap confidence intervals, numerically identical to CheXlocalize.
#![deny(missing_docs)]
