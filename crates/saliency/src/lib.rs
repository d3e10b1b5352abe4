//! Heatmaps to masks: torch-compatible bilinear upsampling, OpenCV-compatible Otsu, contours, smoothing; max point.
#![deny(missing_docs)]
