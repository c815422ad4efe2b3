import CDNNL

/// The one place oneDNN status codes become Swift errors.
@inline(__always)
func dnnlCheck(_ status: dnnl_status_t, _ operation: @autoclosure () -> String) throws {
    guard status != dnnl_success else { return }
    throw TensorError(.backend, "\(operation()) failed: \(dnnlStatusName(status))")
}

func dnnlStatusName(_ status: dnnl_status_t) -> String {
    switch status {
    case dnnl_out_of_memory: "out of memory"
    case dnnl_invalid_arguments: "invalid arguments"
    case dnnl_unimplemented: "unimplemented for these shapes or types"
    case dnnl_iterator_ends: "iterator ends"
    case dnnl_runtime_error: "runtime error"
    case dnnl_not_required: "not required"
    default: "status \(status.rawValue)"
    }
}

extension Precision {
    var dnnlType: dnnl_data_type_t {
        switch self {
        case .fp32: dnnl_f32
        case .bf16: dnnl_bf16
        case .int8: dnnl_s8
        }
    }
}

/// The process-wide CPU engine. oneDNN engines are thread-safe; streams are not and live in executors.
final class DNNLEngine: @unchecked Sendable {
    static let shared = DNNLEngine()

    let handle: dnnl_engine_t

    private init() {
        var engine: dnnl_engine_t?
        let status = dnnl_engine_create(&engine, dnnl_cpu, 0)
        guard status == dnnl_success, let engine else {
            fatalError("oneDNN could not create a CPU engine: \(dnnlStatusName(status))")
        }
        handle = engine
    }
}

/// Builds a memory descriptor; `strides == nil` means dense row-major.
func memoryDescriptor(
    _ dims: [Int], strides: [Int]? = nil, type: dnnl_data_type_t
) throws -> dnnl_memory_desc_t {
    var desc = dnnl_memory_desc_t()
    let dims64 = dims.map(Int64.init)
    let status: dnnl_status_t
    if let strides {
        let strides64 = strides.map(Int64.init)
        status = loupe_md_init(&desc, Int32(dims.count), dims64, strides64, type)
    } else {
        status = loupe_md_init(&desc, Int32(dims.count), dims64, nil, type)
    }
    try dnnlCheck(status, "memory descriptor \(dims)")
    return desc
}

/// Owns a primitive attribute handle for the duration of a primitive's creation.
final class DNNLAttributes {
    let handle: dnnl_primitive_attr_t
    private var postOps: dnnl_post_ops_t?

    init() throws {
        var attr: dnnl_primitive_attr_t?
        try dnnlCheck(dnnl_primitive_attr_create(&attr), "dnnl_primitive_attr_create")
        handle = attr!
        // Scratch memory comes from the executor's workspace, so concurrent executors never share it.
        try dnnlCheck(dnnl_primitive_attr_set_scratchpad_mode(handle, dnnl_scratchpad_mode_user), "scratchpad mode")
    }

    deinit {
        if let postOps { dnnl_post_ops_destroy(postOps) }
        dnnl_primitive_attr_destroy(handle)
    }

    func setOutputScale(_ scale: Float) throws {
        var value = scale
        try dnnlCheck(dnnl_primitive_attr_set_output_scales(handle, 1, 0, &value), "output scales")
    }

    func appendEltwise(_ algorithm: dnnl_alg_kind_t, alpha: Float, beta: Float = 0) throws {
        try ensurePostOps()
        try dnnlCheck(dnnl_post_ops_append_eltwise(postOps, 1, algorithm, alpha, beta), "eltwise post-op")
        try dnnlCheck(dnnl_primitive_attr_set_post_ops(handle, postOps), "set post-ops")
    }

    /// Appends `dst = dst op src1`, where src1 (`operand`) is broadcast over the dimensions it has as 1.
    func appendBinary(_ algorithm: dnnl_alg_kind_t, operand: dnnl_memory_desc_t) throws {
        try ensurePostOps()
        var desc = operand
        try dnnlCheck(dnnl_post_ops_append_binary(postOps, algorithm, &desc), "binary post-op")
        try dnnlCheck(dnnl_primitive_attr_set_post_ops(handle, postOps), "set post-ops")
    }

    func appendSum() throws {
        try ensurePostOps()
        try dnnlCheck(dnnl_post_ops_append_sum(postOps, 1), "sum post-op")
        try dnnlCheck(dnnl_primitive_attr_set_post_ops(handle, postOps), "set post-ops")
    }

    private func ensurePostOps() throws {
        guard postOps == nil else { return }
        var ops: dnnl_post_ops_t?
        try dnnlCheck(dnnl_post_ops_create(&ops), "dnnl_post_ops_create")
        postOps = ops
    }
}
