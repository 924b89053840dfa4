//! Image steps written as WGSL compute shaders (`shaders/`), run through wgpu
//! on the device burn uses, so the GPU path needs no second GPU context. Each
//! has a CPU twin in the core; tests check that both agree.
pub mod letterbox;

pub use letterbox::{GpuLetterbox, LETTERBOX_WGSL};
