// Image → model input on the GPU: 8-bit grey or RGBA pixels are converted to
// grey (Rec. 709 luma), letterboxed (scaled to fit, centred, zero padding)
// and written as f32 in [0, 1]. One invocation per input pixel.
//
// The CPU twin is `Letterbox::apply` (src/data/preprocess/letterbox.rs) on the
// image from `grey_from_bytes` (src/data/preprocess/pixels.rs); tests check
// that both give the same input within float rounding:
// - shrinking by 2x or more first averages factor x factor boxes, so that
//   bilinear sampling does not skip source pixels and alias bone edges;
// - bilinear sampling uses the edge value within half a pixel of the border
//   and 0 outside the image (the padding).

struct Params {
    src_w: u32,
    src_h: u32,
    dst_w: u32,
    dst_h: u32,
    // 1 = grey, 4 = RGBA (alpha ignored)
    channels: u32,
    // box-averaging factor (1 = none)
    factor: u32,
    // size of the box-averaged image
    red_w: u32,
    red_h: u32,
    // input pixels per source pixel, and the padding in input pixels
    scale: f32,
    pad_x: f32,
    pad_y: f32,
    _unused: f32,
}

@group(0) @binding(0) var<uniform> params: Params;
// Source bytes packed four to a word, little-endian.
@group(0) @binding(1) var<storage, read> src: array<u32>;
@group(0) @binding(2) var<storage, read_write> dst: array<f32>;

fn byte_at(i: u32) -> f32 {
    let word = src[i / 4u];
    return f32((word >> ((i % 4u) * 8u)) & 0xffu) / 255.0;
}

fn grey(x: u32, y: u32) -> f32 {
    let p = y * params.src_w + x;
    if (params.channels == 1u) {
        return byte_at(p);
    }
    let b = p * 4u;
    let luma = 0.2126 * byte_at(b) + 0.7152 * byte_at(b + 1u) + 0.0722 * byte_at(b + 2u);
    return clamp(luma, 0.0, 1.0);
}

// Mean of one factor x factor box; boxes cut by the right/bottom edge average
// the pixels they have.
fn reduced(rx: u32, ry: u32) -> f32 {
    let f = params.factor;
    let x_end = min((rx + 1u) * f, params.src_w);
    let y_end = min((ry + 1u) * f, params.src_h);
    var sum = 0.0;
    var n = 0u;
    for (var y = ry * f; y < y_end; y = y + 1u) {
        for (var x = rx * f; x < x_end; x = x + 1u) {
            sum = sum + grey(x, y);
            n = n + 1u;
        }
    }
    return sum / f32(max(n, 1u));
}

@compute @workgroup_size(8, 8, 1)
fn main(@builtin(global_invocation_id) id: vec3<u32>) {
    if (id.x >= params.dst_w || id.y >= params.dst_h) {
        return;
    }
    let out_index = id.y * params.dst_w + id.x;
    // Edge coordinates of this input pixel's centre in the source image.
    let u = (f32(id.x) + 0.5 - params.pad_x) / params.scale;
    let v = (f32(id.y) + 0.5 - params.pad_y) / params.scale;
    if (u < 0.0 || u > f32(params.src_w) || v < 0.0 || v > f32(params.src_h)) {
        dst[out_index] = 0.0;
        return;
    }
    let f = f32(params.factor);
    let rw = f32(params.red_w);
    let rh = f32(params.red_h);
    let x = u / f - 0.5;
    let y = v / f - 0.5;
    if (x < -0.5 || x > rw - 0.5 || y < -0.5 || y > rh - 0.5) {
        dst[out_index] = 0.0;
        return;
    }
    let xc = clamp(x, 0.0, rw - 1.0);
    let yc = clamp(y, 0.0, rh - 1.0);
    let x0 = u32(floor(xc));
    let y0 = u32(floor(yc));
    let x1 = min(x0 + 1u, params.red_w - 1u);
    let y1 = min(y0 + 1u, params.red_h - 1u);
    let fx = xc - f32(x0);
    let fy = yc - f32(y0);
    let top = reduced(x0, y0) * (1.0 - fx) + reduced(x1, y0) * fx;
    let bottom = reduced(x0, y1) * (1.0 - fx) + reduced(x1, y1) * fx;
    dst[out_index] = top * (1.0 - fy) + bottom * fy;
}
