/// Layer normalisation over the last dimension with a learned scale and shift.
public final class LayerNormLayer: @unchecked Sendable {
    public let width: Int
    public let epsilon: Float
    let scale: AlignedBuffer
    let shift: AlignedBuffer

    public init(scale: [Float], shift: [Float], epsilon: Float) throws {
        guard scale.count == shift.count, !scale.isEmpty else {
            throw TensorError(
                .shapeMismatch, "layer norm scale has \(scale.count) values but shift has \(shift.count)")
        }
        width = scale.count
        self.epsilon = epsilon
        self.scale = AlignedBuffer(byteCount: width * 4)
        self.shift = AlignedBuffer(byteCount: width * 4)
        self.scale.floats().update(from: scale, count: width)
        self.shift.floats().update(from: shift, count: width)
    }
}
