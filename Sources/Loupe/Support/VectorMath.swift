/// Small dense-vector helpers shared by search and analysis. Vectors are `[Float]` of equal length.
package enum VectorMath {
    /// The dot product; the cosine similarity when both vectors are unit length.
    @inlinable
    package static func dot(_ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, count: Int) -> Float {
        var lanes = SIMD16<Float>()
        var i = 0
        while i + 16 <= count {
            lanes.addProduct(
                UnsafeRawPointer(a + i).loadUnaligned(as: SIMD16<Float>.self),
                UnsafeRawPointer(b + i).loadUnaligned(as: SIMD16<Float>.self))
            i += 16
        }
        var sum = lanes.sum()
        while i < count {
            sum += a[i] * b[i]
            i += 1
        }
        return sum
    }

    package static func dot(_ a: [Float], _ b: [Float]) -> Float {
        precondition(a.count == b.count, "vectors of different lengths: \(a.count) and \(b.count)")
        return a.withUnsafeBufferPointer { pa in
            b.withUnsafeBufferPointer { pb in dot(pa.baseAddress!, pb.baseAddress!, count: a.count) }
        }
    }

    /// `v / |v|`, or nil for the zero vector (which has no direction).
    package static func normalized(_ v: [Float]) -> [Float]? {
        let norm = dot(v, v).squareRoot()
        guard norm > 0, norm.isFinite else { return nil }
        return v.map { $0 / norm }
    }

    /// The element-wise mean of equal-length vectors.
    package static func mean(_ vectors: [[Float]]) -> [Float] {
        guard let first = vectors.first else { return [] }
        var sum = [Float](repeating: 0, count: first.count)
        for v in vectors {
            for i in 0..<sum.count { sum[i] += v[i] }
        }
        let scale = 1 / Float(vectors.count)
        return sum.map { $0 * scale }
    }
}

/// A contiguous row-major matrix of unit vectors, for batch similarity work without per-row arrays.
package struct VectorTable: Sendable {
    package let dimension: Int
    package private(set) var storage: [Float]
    package var count: Int { dimension == 0 ? 0 : storage.count / dimension }

    /// Copies `vectors`, which must all have `dimension` values.
    package init(_ vectors: [[Float]], dimension: Int) {
        precondition(vectors.allSatisfy { $0.count == dimension }, "every vector must have \(dimension) values")
        self.dimension = dimension
        storage = vectors.flatMap { $0 }
    }

    package func row(_ index: Int) -> ArraySlice<Float> {
        storage[(index * dimension)..<((index + 1) * dimension)]
    }

    /// Cosine (dot) similarity of rows `i` and `j`.
    package func similarity(_ i: Int, _ j: Int) -> Float {
        storage.withUnsafeBufferPointer { base in
            VectorMath.dot(base.baseAddress! + i * dimension, base.baseAddress! + j * dimension, count: dimension)
        }
    }

    /// Cosine similarity of row `i` and an outside vector.
    package func similarity(_ i: Int, to vector: [Float]) -> Float {
        storage.withUnsafeBufferPointer { base in
            vector.withUnsafeBufferPointer { v in
                VectorMath.dot(base.baseAddress! + i * dimension, v.baseAddress!, count: dimension)
            }
        }
    }
}
