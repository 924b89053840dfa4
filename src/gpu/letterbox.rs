//! `shaders/letterbox.wgsl` on wgpu: 8-bit grey or RGBA pixels → the model's
//! letterboxed f32 input. Uploading the raw bytes (one per channel) and
//! resampling on the GPU moves 4–16× less data than a float image would, and
//! the CPU twin (`grey_from_bytes` + `Letterbox::apply`) stays the reference.
use crate::data::preprocess::letterbox::Letterbox;
use crate::data::preprocess::pixels::channels_of;
use crate::data::GreyImage;
use burn::tensor::wgpu::{wgpu, WgpuSetup};

/// The shader source, compiled into the library so that it ships in wasm.
pub const LETTERBOX_WGSL: &str = include_str!("../../shaders/letterbox.wgsl");

const WORKGROUP: u32 = 8;

/// A compiled letterbox pipeline on one wgpu device.
pub struct GpuLetterbox {
    device: wgpu::Device,
    queue: wgpu::Queue,
    pipeline: wgpu::ComputePipeline,
}

impl GpuLetterbox {
    /// Compiles the shader on burn's device and queue (shared, see
    /// `Device::wgpu_options().init_with_setup_async()`).
    pub fn new(setup: &WgpuSetup) -> Self {
        let device = setup.device.clone();
        let module = device.create_shader_module(wgpu::ShaderModuleDescriptor {
            label: Some("fairmark letterbox"),
            source: wgpu::ShaderSource::Wgsl(LETTERBOX_WGSL.into()),
        });
        let pipeline = device.create_compute_pipeline(&wgpu::ComputePipelineDescriptor {
            label: Some("fairmark letterbox"),
            layout: None,
            module: &module,
            entry_point: Some("main"),
            compilation_options: Default::default(),
            cache: None,
        });
        Self {
            device,
            queue: setup.queue.clone(),
            pipeline,
        }
    }

    /// Letterboxes `pixels` (`width × height`, grey or RGBA) with `lb`, which
    /// must have been made for that size. Errors (wrong sizes, an image over
    /// the device's buffer limit, a lost device) are returned so the caller
    /// can fall back to the CPU.
    pub async fn apply(
        &self,
        pixels: &[u8],
        width: usize,
        height: usize,
        lb: &Letterbox,
    ) -> Result<GreyImage, ShaderError> {
        let channels = channels_of(pixels.len(), width, height)?;
        if (lb.src_w, lb.src_h) != (width, height) {
            return Err(ShaderError::Input(format!(
                "letterbox made for {}x{}, image is {width}x{height}",
                lb.src_w, lb.src_h
            )));
        }
        let limit = self.device.limits().max_storage_buffer_binding_size;
        let src_bytes = pixels.len().next_multiple_of(4) as u64;
        if src_bytes > limit {
            return Err(ShaderError::Input(format!(
                "image of {src_bytes} bytes exceeds the GPU's storage-buffer limit of {limit} bytes"
            )));
        }
        let f = lb.box_factor();
        let params: [u32; 12] = [
            width as u32,
            height as u32,
            lb.dst_w as u32,
            lb.dst_h as u32,
            channels as u32,
            f as u32,
            width.div_ceil(f) as u32,
            height.div_ceil(f) as u32,
            (lb.scale as f32).to_bits(),
            (lb.pad_x as f32).to_bits(),
            (lb.pad_y as f32).to_bits(),
            0,
        ];
        let params_bytes: Vec<u8> = params.iter().flat_map(|v| v.to_le_bytes()).collect();
        let mut src = pixels.to_vec();
        src.resize(src_bytes as usize, 0);
        let out_bytes = (lb.dst_w * lb.dst_h * 4) as u64;

        let buffer = |label, size, usage| {
            self.device.create_buffer(&wgpu::BufferDescriptor {
                label: Some(label),
                size,
                usage,
                mapped_at_creation: false,
            })
        };
        use wgpu::BufferUsages as U;
        let uniform = buffer("letterbox params", 48, U::UNIFORM | U::COPY_DST);
        let input = buffer("letterbox pixels", src_bytes, U::STORAGE | U::COPY_DST);
        let output = buffer("letterbox input", out_bytes, U::STORAGE | U::COPY_SRC);
        let staging = buffer("letterbox readback", out_bytes, U::MAP_READ | U::COPY_DST);
        self.queue.write_buffer(&uniform, 0, &params_bytes);
        self.queue.write_buffer(&input, 0, &src);

        let bind_group = self.device.create_bind_group(&wgpu::BindGroupDescriptor {
            label: Some("letterbox"),
            layout: &self.pipeline.get_bind_group_layout(0),
            entries: &[
                wgpu::BindGroupEntry {
                    binding: 0,
                    resource: uniform.as_entire_binding(),
                },
                wgpu::BindGroupEntry {
                    binding: 1,
                    resource: input.as_entire_binding(),
                },
                wgpu::BindGroupEntry {
                    binding: 2,
                    resource: output.as_entire_binding(),
                },
            ],
        });
        let mut encoder = self
            .device
            .create_command_encoder(&wgpu::CommandEncoderDescriptor { label: None });
        {
            let mut pass = encoder.begin_compute_pass(&wgpu::ComputePassDescriptor {
                label: Some("letterbox"),
                timestamp_writes: None,
            });
            pass.set_pipeline(&self.pipeline);
            pass.set_bind_group(0, &bind_group, &[]);
            pass.dispatch_workgroups(
                (lb.dst_w as u32).div_ceil(WORKGROUP),
                (lb.dst_h as u32).div_ceil(WORKGROUP),
                1,
            );
        }
        encoder.copy_buffer_to_buffer(&output, 0, &staging, 0, out_bytes);
        self.queue.submit([encoder.finish()]);

        let data = read_back(&self.device, &staging).await?;
        Ok(GreyImage::new(lb.dst_w, lb.dst_h, data)?)
    }
}

/// Why the shader path could not letterbox an image (the caller falls back
/// on the CPU twin).
#[derive(Debug, thiserror::Error)]
pub enum ShaderError {
    #[error(transparent)]
    Data(#[from] crate::data::DataError),
    #[error("{0}")]
    Input(String),
    #[error("GPU read-back failed: {0}")]
    ReadBack(String),
}

/// Maps a `MAP_READ` buffer and returns its f32 contents. In the browser the
/// map callback comes from the event loop (never block there); natively the
/// device is polled until the copy is done.
async fn read_back(device: &wgpu::Device, staging: &wgpu::Buffer) -> Result<Vec<f32>, ShaderError> {
    let (tx, rx) = async_channel::bounded(1);
    let slice = staging.slice(..);
    slice.map_async(wgpu::MapMode::Read, move |r| {
        let _ = tx.try_send(r);
    });
    #[cfg(not(target_family = "wasm"))]
    device
        .poll(wgpu::PollType::wait_indefinitely())
        .map_err(|e| ShaderError::ReadBack(format!("poll: {e}")))?;
    #[cfg(target_family = "wasm")]
    let _ = device;
    rx.recv()
        .await
        .map_err(|_| ShaderError::ReadBack("the map callback was dropped".into()))?
        .map_err(|e| ShaderError::ReadBack(e.to_string()))?;
    let data = {
        let view = slice
            .get_mapped_range()
            .map_err(|e| ShaderError::ReadBack(e.to_string()))?;
        view.chunks_exact(4)
            .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
            .collect()
    };
    staging.unmap();
    Ok(data)
}
