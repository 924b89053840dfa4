//! Plane geometry of landmarks (image pixels, y down): distances and angles,
//! shared by the measurements and the data readers that derive labels from
//! annotations (the ISBI skeletal class).

pub fn dist(p: [f64; 2], q: [f64; 2]) -> f64 {
    (p[0] - q[0]).hypot(p[1] - q[1])
}

pub fn sub(p: [f64; 2], q: [f64; 2]) -> [f64; 2] {
    [p[0] - q[0], p[1] - q[1]]
}

/// Angle between two vectors in degrees, 0–180; `None` for a zero vector.
pub fn vector_angle(u: [f64; 2], v: [f64; 2]) -> Option<f64> {
    let (nu, nv) = (u[0].hypot(u[1]), v[0].hypot(v[1]));
    if nu <= 1e-12 || nv <= 1e-12 {
        return None;
    }
    // atan2 of cross and dot stays accurate near 0° and 180°, unlike acos.
    let cross = u[0] * v[1] - u[1] * v[0];
    let dot = u[0] * v[0] + u[1] * v[1];
    Some(cross.abs().atan2(dot).to_degrees())
}

/// Angle at `vertex` between the rays to `p` and `q`, in degrees (0–180);
/// `None` when two of the points coincide.
pub fn angle_at(vertex: [f64; 2], p: [f64; 2], q: [f64; 2]) -> Option<f64> {
    vector_angle(sub(p, vertex), sub(q, vertex))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn right_angles_and_degenerate_points() {
        assert!((angle_at([0.0, 0.0], [1.0, 0.0], [0.0, 2.0]).unwrap() - 90.0).abs() < 1e-12);
        assert!((angle_at([0.0, 0.0], [1.0, 0.0], [-1.0, 0.0]).unwrap() - 180.0).abs() < 1e-12);
        assert_eq!(angle_at([1.0, 1.0], [1.0, 1.0], [0.0, 2.0]), None);
        assert_eq!(dist([0.0, 0.0], [3.0, 4.0]), 5.0);
    }
}
