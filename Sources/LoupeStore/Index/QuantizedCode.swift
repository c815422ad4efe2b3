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
            let out = code.assumingMemoryBound(to: Int8.self)
            let scale = quantize(vector, into: out)
            var norm: Float = 0
            for i in 0..<dimension {
                let back = Float(out[i]) * scale
                norm += back * back
            }
            return (scale, norm)
        }
    }

    /// Rounds `vector` to int8 with one symmetric scale (largest magnitude to 127); returns the scale.
    @inline(__always)
    func quantize(_ vector: UnsafePointer<Float>, into out: UnsafeMutablePointer<Int8>) -> Float {
        var maxAbs: Float = 0
        for i in 0..<dimension { maxAbs = max(maxAbs, abs(vector[i])) }
        let scale = maxAbs > 0 ? maxAbs / 127 : 1
        let inverse = 1 / scale
        for i in 0..<dimension { out[i] = Int8(clamping: Int((vector[i] * inverse).rounded())) }
        return scale
    }

    /// Prepares a query once per search or insertion: its squared norm (L2) and, for int8 storage, its own
    /// int8 code in `bytes` (`dimension` of them), so every distance on the way is an integer dot product.
    @inline(__always)
    func prepare(_ vector: UnsafePointer<Float>, bytes: UnsafeMutablePointer<Int8>) -> EncodedQuery {
        let norm = metric == .l2 ? loupe_dot_f32(vector, vector, Int64(dimension)) : 0
        guard storage == .int8 else { return EncodedQuery(vector: vector, squaredNorm: norm) }
        let byteScale = quantize(vector, into: bytes)
        return EncodedQuery(vector: vector, squaredNorm: norm, bytes: UnsafePointer(bytes), byteScale: byteScale)
    }

    /// Distance from a prepared query to a stored code. int8 codes meet the query's own int8 code
    /// (one integer dot product, AVX-512 VNNI where available); the caller re-ranks with fp32 vectors.
    @inline(__always)
    func distance(_ query: EncodedQuery, code: UnsafeRawPointer, scale: Float, squaredNorm: Float) -> Float {
        let n = Int64(dimension)
        switch storage {
        case .fp32:
            if metric == .l2 { return loupe_l2sq_f32(query.vector, code.assumingMemoryBound(to: Float.self), n) }
            return -loupe_dot_f32(query.vector, code.assumingMemoryBound(to: Float.self), n)
        case .bf16:
            let dot = loupe_dot_bf16(query.vector, code.assumingMemoryBound(to: UInt16.self), n)
            return metric == .l2 ? max(0, query.squaredNorm - 2 * dot + squaredNorm) : -dot
        case .int8:
            let dot = query.byteScale * scale * Float(loupe_dot_s8(query.bytes.unsafelyUnwrapped, code.assumingMemoryBound(to: Int8.self), n))
            return metric == .l2 ? max(0, query.squaredNorm - 2 * dot + squaredNorm) : -dot
        }
    }

    /// Distance between two stored int8 codes (building compares stored nodes), without decoding either.
    @inline(__always)
    func int8Distance(_ a: UnsafeRawPointer, scale scaleA: Float, squaredNorm normA: Float, _ b: UnsafeRawPointer,
                      scale scaleB: Float, squaredNorm normB: Float) -> Float {
        let raw = loupe_dot_s8(a.assumingMemoryBound(to: Int8.self), b.assumingMemoryBound(to: Int8.self), Int64(dimension))
        let dot = scaleA * scaleB * Float(raw)
        return metric == .l2 ? max(0, normA - 2 * dot + normB) : -dot
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

/// A query as the index measures it: the fp32 vector, its squared norm (L2 only, else 0) and, for int8
/// storage, its int8 code and scale (`QuantizedCode.prepare`). The pointers are the caller's.
struct EncodedQuery {
    let vector: UnsafePointer<Float>
    let squaredNorm: Float
    let bytes: UnsafePointer<Int8>?
    let byteScale: Float

    init(vector: UnsafePointer<Float>, squaredNorm: Float, bytes: UnsafePointer<Int8>? = nil, byteScale: Float = 1) {
        self.vector = vector
        self.squaredNorm = squaredNorm
        self.bytes = bytes
        self.byteScale = byteScale
    }
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
