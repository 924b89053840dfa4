//! Readers for the real data formats users bring.
pub mod payer_csv;
