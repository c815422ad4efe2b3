import Foundation

/// A memory budget for decoding pictures, shared by everyone who decodes in the process: a reservation of
/// the bytes a decode will need is taken before it starts and given back after, and reservations that do
/// not fit wait their turn (first come, first served) without holding a thread.
///
/// A single picture larger than the whole budget still decodes, but only when nothing else holds a
/// reservation, so peak memory stays near `max(capacity, largest picture)` however many arrive at once.
///
/// ```swift
/// let cost = try ImageDecoder.decodingCost(of: data)
/// let image = try await DecodeBudget.shared.withReservation(bytes: cost) { try decoder.decode(data, path: nil) }
/// ```
public final class DecodeBudget: @unchecked Sendable {
    private struct Waiter {
        let bytes: Int
        let continuation: CheckedContinuation<Void, Never>
    }

    private struct State {
        var capacity: Int
        var inUse = 0
        var holders = 0
        var waiters: [Waiter] = []
        var peak = 0
        var admitted = 0
    }

    // NSLock rather than Synchronization.Mutex, which needs macOS 15; every access goes through `locked`.
    private let lock = NSLock()
    private var stateValue: State

    private func locked<T>(_ body: (inout State) -> T) -> T {
        lock.lock()
        defer { lock.unlock() }
        return body(&stateValue)
    }

    /// The budget of the process (768 MB by default; `loupe serve` sets it from its limits).
    public static let shared = DecodeBudget(capacity: 768 << 20)

    /// A budget of `capacity` bytes.
    public init(capacity: Int) {
        stateValue = State(capacity: max(1, capacity))
    }

    /// The bytes that may be reserved at once.
    public var capacity: Int {
        get { locked { $0.capacity } }
        set {
            let ready = locked { state -> [CheckedContinuation<Void, Never>] in
                state.capacity = max(1, newValue)
                return Self.admit(&state)
            }
            ready.forEach { $0.resume() }
        }
    }

    /// The most bytes reserved at once so far.
    public var peakReserved: Int { locked { $0.peak } }

    /// Reservations granted so far.
    public var reservationsGranted: Int { locked { $0.admitted } }

    /// Runs `body` once `bytes` fit in the budget, and gives them back when it returns or throws.
    public func withReservation<T>(bytes: Int, _ body: () async throws -> T) async rethrows -> T {
        let bytes = max(0, bytes)
        await reserve(bytes)
        defer { release(bytes) }
        return try await body()
    }

    private func reserve(_ bytes: Int) async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let ready = locked { state -> [CheckedContinuation<Void, Never>] in
                state.waiters.append(Waiter(bytes: bytes, continuation: continuation))
                return Self.admit(&state)
            }
            ready.forEach { $0.resume() }
        }
    }

    private func release(_ bytes: Int) {
        let ready = locked { state -> [CheckedContinuation<Void, Never>] in
            state.inUse -= bytes
            state.holders -= 1
            return Self.admit(&state)
        }
        ready.forEach { $0.resume() }
    }

    /// Admits waiters in order while the first one fits (or nothing is held).
    private static func admit(_ state: inout State) -> [CheckedContinuation<Void, Never>] {
        var ready: [CheckedContinuation<Void, Never>] = []
        while let first = state.waiters.first, state.holders == 0 || state.inUse + first.bytes <= state.capacity {
            state.waiters.removeFirst()
            state.inUse += first.bytes
            state.holders += 1
            state.admitted += 1
            state.peak = max(state.peak, state.inUse)
            ready.append(first.continuation)
        }
        return ready
    }
}

extension ImageDecoder {
    /// Bytes decoding `data` may hold at its peak, from the header alone: 12 per stored pixel (a 16-bit RGBA
    /// frame from the codec, plus the RGB picture made from it). Unknown formats count as small: the decoder
    /// refuses them before allocating.
    public static func decodingCost(of data: Data) -> Int {
        let pixels = data.withUnsafeBytes { bytes -> Int in
            guard let format = ImageFormat.sniff(bytes), format != .ppm,
                let header = try? ImageHeaderReader(bytes: bytes, format: format, path: nil).read()
            else { return data.count }
            let (product, overflow) = header.metadata.storedWidth.multipliedReportingOverflow(by: header.metadata.storedHeight)
            return overflow ? Int.max / 16 : product
        }
        let (cost, overflow) = pixels.multipliedReportingOverflow(by: 12)
        return overflow ? Int.max / 2 : cost
    }
}
