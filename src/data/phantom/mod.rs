//! Synthetic X-ray phantoms.
