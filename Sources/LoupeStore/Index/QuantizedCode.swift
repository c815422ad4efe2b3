import CLoupeSIMD

/// Encodes fp32 vectors into an index's storage form and measures distances to stored codes.
///
/// Distances are "smaller is closer": `-dot` for IP and COSINE (vectors are unit length for COSINE),
/// squared Euclidean for L2. Quantized codes carry the stored vector's squared norm (and, for int8,
/// its scale) so L2 can be computed from a dot product.
struct QuantizedCode: Sendable {
    let dimension: Int
    let metric: MetricType
    let storage: VectorStorage

    /// Bytes of one code.
    var codeBytes: Int { dimension * storage.bytesPerComponent }

    /// Writes `vector` as a code at `code`; returns (scale, squared norm of what was stored).
    @inline(__always)
    func encode(_ vector: UnsafePointer<Float>, into code: UnsafeMutableRawPointer) -> (scale: Float, squaredNorm: Float) {
        switch storage {
        case .fp32:
            code.copyMemory(from: vector, byteCount: dimension * 4)
            return (1, loupe_dot_f32(vector, vector, Int64(dimension)))
        case .bf16:
            let out = code.assumingMemoryBound(to: UInt16.self)
            var norm: Float = 0
            for i in 0..<dimension {
                let bits = vector[i].bitPattern
                // Round to nearest even on the dropped 16 bits.
                let rounded = bits &+ 0x7FFF &+ ((bits >> 16) & 1)
                out[i] = UInt16(truncatingIfNeeded: rounded >> 16)
                let back = Float(bitPattern: UInt32(out[i]) << 16)
                norm += back * back
            }
            return (1, norm)
        case .int8:
            var maxAbs: Float = 0
            for i in 0..<dimension { maxAbs = max(maxAbs, abs(vector[i])) }
            let scale = maxAbs > 0 ? maxAbs / 127 : 1
            let out = code.assumingMemoryBound(to: Int8.self)
            var norm: Float = 0
            for i in 0..<dimension {
                let q = Int8(clamping: Int((vector[i] / scale).rounded()))
                out[i] = q
                let back = Float(q) * scale
                norm += back * back
            }
            return (scale, norm)
        }
    }

    /// Distance from a prepared query to a stored code.
    @inline(__always)
    func distance(_ query: UnsafePointer<Float>, queryNorm: Float, code: UnsafeRawPointer, scale: Float,
                  squaredNorm: Float) -> Float {
        let n = Int64(dimension)
        switch storage {
        case .fp32:
            if metric == .l2 { return loupe_l2sq_f32(query, code.assumingMemoryBound(to: Float.self), n) }
            return -loupe_dot_f32(query, code.assumingMemoryBound(to: Float.self), n)
        case .bf16:
            let dot = loupe_dot_bf16(query, code.assumingMemoryBound(to: UInt16.self), n)
            return metric == .l2 ? max(0, queryNorm - 2 * dot + squaredNorm) : -dot
        case .int8:
            let dot = scale * loupe_dot_i8(query, code.assumingMemoryBound(to: Int8.self), n)
            return metric == .l2 ? max(0, queryNorm - 2 * dot + squaredNorm) : -dot
        }
    }

    /// Expands a code back to fp32 (used to compare two stored vectors while building).
    func decode(_ code: UnsafeRawPointer, scale: Float, into out: UnsafeMutablePointer<Float>) {
        switch storage {
        case .fp32: out.update(from: code.assumingMemoryBound(to: Float.self), count: dimension)
        case .bf16:
            let c = code.assumingMemoryBound(to: UInt16.self)
            for i in 0..<dimension { out[i] = Float(bitPattern: UInt32(c[i]) << 16) }
        case .int8:
            let c = code.assumingMemoryBound(to: Int8.self)
            for i in 0..<dimension { out[i] = Float(c[i]) * scale }
        }
    }

    /// Exact fp32 distance, for re-ranking and flat search.
    @inline(__always)
    func exactDistance(_ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>) -> Float {
        metric == .l2 ? loupe_l2sq_f32(a, b, Int64(dimension)) : -loupe_dot_f32(a, b, Int64(dimension))
    }

    /// Converts an internal distance to Milvus's score (similarity for IP/COSINE, squared distance for L2).
    @inline(__always)
    func score(_ distance: Float) -> Float { metric == .l2 ? distance : -distance }
}

/// Scales `vector` to unit length in place (COSINE is inner product of unit vectors). Zero stays zero.
/// Scales `count` floats at `vector` to unit length (left alone when all zero).
func normalizeInPlace(_ vector: UnsafeMutablePointer<Float>, _ count: Int) {
    let n = loupe_dot_f32(vector, vector, Int64(count))
    guard n > 0 else { return }
    let inv = 1 / n.squareRoot()
    for i in 0..<count { vector[i] *= inv }
}

func normalizeInPlace(_ vector: inout [Float]) {
    let n = vector.withUnsafeBufferPointer { loupe_dot_f32($0.baseAddress!, $0.baseAddress!, Int64($0.count)) }
    guard n > 0 else { return }
    let inv = 1 / n.squareRoot()
    for i in vector.indices { vector[i] *= inv }
}
