//! Polygon rasterisation: Pillow-compatible fill (leaderboard parity) and GDAL all-touched.
#![deny(missing_docs)]
