import CDNNL

/// A compiled oneDNN primitive plus one memory object per argument, rebound to new data on each call.
///
/// Primitives are created once per shape and reused: creation JIT-compiles kernels, execution only
/// swaps data pointers. Not thread-safe; each `TensorExecutor` owns its own.
final class DNNLPrimitive {
    private let descriptor: dnnl_primitive_desc_t
    private let primitive: dnnl_primitive_t
    private var arguments: [dnnl_exec_arg_t]
    private let scratchpadMemory: dnnl_memory_t?
    /// Bytes of scratch memory an execution needs.
    let scratchpadBytes: Int
    /// The oneDNN implementation chosen (e.g. `brg:avx512_core_bf16`), for benchmarks and logs.
    let implementation: String

    /// - Parameters:
    ///   - operationDescriptor: a pointer to a `dnnl_*_desc_t` initialised by the caller.
    ///   - arguments: the argument ids and memory descriptors, in the order `execute` receives pointers.
    convenience init(
        operationDescriptor: UnsafeRawPointer, attributes: DNNLAttributes?,
        arguments argumentDescriptors: [(Int32, dnnl_memory_desc_t)], name: String
    ) throws {
        var pd: dnnl_primitive_desc_t?
        try dnnlCheck(
            dnnl_primitive_desc_create(&pd, operationDescriptor, attributes?.handle, DNNLEngine.shared.handle, nil),
            "creating \(name)")
        try self.init(ownedDescriptor: pd!, arguments: argumentDescriptors, name: name)
    }

    /// Wraps a copy of a reorder's primitive descriptor (the caller keeps and frees its own).
    convenience init(
        reorderDescriptor: dnnl_primitive_desc_t, arguments: [(Int32, dnnl_memory_desc_t)], name: String
    ) throws {
        var copy: dnnl_primitive_desc_t?
        try dnnlCheck(dnnl_primitive_desc_clone(&copy, reorderDescriptor), "cloning \(name)")
        try self.init(ownedDescriptor: copy!, arguments: arguments, name: name)
    }

    private init(
        ownedDescriptor: dnnl_primitive_desc_t, arguments argumentDescriptors: [(Int32, dnnl_memory_desc_t)],
        name: String
    ) throws {
        let engine = DNNLEngine.shared.handle
        descriptor = ownedDescriptor
        var prim: dnnl_primitive_t?
        let status = dnnl_primitive_create(&prim, descriptor)
        guard status == dnnl_success, let prim else {
            dnnl_primitive_desc_destroy(descriptor)
            throw TensorError(.backend, "compiling \(name) failed: \(dnnlStatusName(status))")
        }
        primitive = prim
        implementation = String(cString: loupe_pd_impl_name(descriptor))

        var args: [dnnl_exec_arg_t] = []
        for (arg, desc) in argumentDescriptors {
            var md = desc
            var memory: dnnl_memory_t?
            try dnnlCheck(dnnl_memory_create(&memory, &md, engine, nil), "memory for \(name)")
            args.append(dnnl_exec_arg_t(arg: arg, memory: memory))
        }
        if let scratch = dnnl_primitive_desc_query_md(descriptor, dnnl_query_scratchpad_md, 0) {
            let bytes = dnnl_memory_desc_get_size(scratch)
            scratchpadBytes = bytes
            if bytes > 0 {
                var memory: dnnl_memory_t?
                try dnnlCheck(dnnl_memory_create(&memory, scratch, engine, nil), "scratchpad for \(name)")
                scratchpadMemory = memory
                args.append(dnnl_exec_arg_t(arg: DNNL_ARG_SCRATCHPAD, memory: memory))
            } else {
                scratchpadMemory = nil
            }
        } else {
            scratchpadBytes = 0
            scratchpadMemory = nil
        }
        arguments = args
    }

    deinit {
        for arg in arguments { dnnl_memory_destroy(arg.memory) }
        dnnl_primitive_destroy(primitive)
        dnnl_primitive_desc_destroy(descriptor)
    }

    /// The memory descriptor the primitive chose for `query` (e.g. packed weights).
    func chosenDescriptor(_ query: dnnl_query_t) -> dnnl_memory_desc_t? {
        dnnl_primitive_desc_query_md(descriptor, query, 0)?.pointee
    }

    /// Runs the primitive on `pointers` (one per argument given at creation, same order).
    func execute(
        _ pointers: [UnsafeMutableRawPointer], scratchpad: UnsafeMutableRawPointer?, stream: dnnl_stream_t
    ) throws {
        for (index, pointer) in pointers.enumerated() {
            try dnnlCheck(dnnl_memory_set_data_handle_v2(arguments[index].memory, pointer, stream), "binding argument")
        }
        if let scratchpadMemory {
            guard let scratchpad else { throw TensorError(.invalidArgument, "scratchpad required") }
            try dnnlCheck(dnnl_memory_set_data_handle_v2(scratchpadMemory, scratchpad, stream), "binding scratchpad")
        }
        let count = Int32(arguments.count)
        try arguments.withUnsafeBufferPointer { args in
            try dnnlCheck(dnnl_primitive_execute(primitive, stream, count, args.baseAddress), "executing primitive")
        }
    }
}
