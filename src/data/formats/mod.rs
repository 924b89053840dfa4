//! Readers for the real data formats users bring.
pub mod image_io;
pub mod payer_csv;
