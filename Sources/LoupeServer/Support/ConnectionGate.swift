import NIOConcurrencyHelpers
import NIOCore

/// Keeps half-open connections from starving the server: a cap on open connections in all and per
/// client address, and a deadline for each new connection's first request header.
///
/// When a new connection would pass a cap, the oldest connection (of that address, for the per-address
/// cap) that has not yet sent a complete request header is closed to make room; if every connection is
/// busy with a request, the new one is closed instead. So 5,000 clients that send half a header and stop
/// hold at most `maxConnections` descriptors, each for at most `headerTimeout`, and a real request still
/// gets through.
final class ConnectionGate: Sendable {
    struct Entry {
        let channel: any Channel
        let address: String
        let serial: UInt64
        var waitingForHeader = true
    }

    private struct State {
        var entries: [ObjectIdentifier: Entry] = [:]
        var perAddress: [String: Int] = [:]
        var nextSerial: UInt64 = 0
        var evicted = 0
    }

    let maxConnections: Int
    let maxPerAddress: Int
    private let state = NIOLockedValueBox(State())

    init(maxConnections: Int, maxPerAddress: Int) {
        self.maxConnections = maxConnections
        self.maxPerAddress = maxPerAddress
    }

    /// Connections open now.
    var count: Int { state.withLockedValue { $0.entries.count } }
    /// Connections closed so far to make room for new ones.
    var evictions: Int { state.withLockedValue { $0.evicted } }

    /// Registers `channel`; returns the channels to close (an older half-open one, or `channel` itself).
    func admit(_ channel: any Channel) -> [any Channel] {
        let address = channel.remoteAddress?.ipAddress ?? "?"
        let id = ObjectIdentifier(channel)
        return state.withLockedValue { state in
            state.nextSerial += 1
            state.entries[id] = Entry(channel: channel, address: address, serial: state.nextSerial)
            state.perAddress[address, default: 0] += 1
            var closing: [any Channel] = []
            func evict(where matches: (Entry) -> Bool) {
                let victim = state.entries.filter { $0.key != id && $0.value.waitingForHeader && matches($0.value) }
                    .min { $0.value.serial < $1.value.serial }
                let chosen = victim?.key ?? id
                if let entry = state.entries.removeValue(forKey: chosen) {
                    state.perAddress[entry.address, default: 1] -= 1
                    if state.perAddress[entry.address] == 0 { state.perAddress[entry.address] = nil }
                    state.evicted += 1
                    closing.append(entry.channel)
                }
            }
            if state.perAddress[address, default: 0] > maxPerAddress { evict { $0.address == address } }
            if state.entries.count > maxConnections { evict { _ in true } }
            return closing
        }
    }

    /// The connection sent a complete request header: it is no longer a candidate for eviction.
    func headerArrived(_ channel: any Channel) {
        state.withLockedValue { $0.entries[ObjectIdentifier(channel)]?.waitingForHeader = false }
    }

    /// The connection closed.
    func remove(_ channel: any Channel) {
        state.withLockedValue { state in
            guard let entry = state.entries.removeValue(forKey: ObjectIdentifier(channel)) else { return }
            state.perAddress[entry.address, default: 1] -= 1
            if state.perAddress[entry.address] == 0 { state.perAddress[entry.address] = nil }
        }
    }
}

/// Sits after the HTTP decoder, so its first read is a complete request head: until then the connection
/// is half-open, may be evicted by `ConnectionGate`, and is closed at the header deadline.
final class ConnectionGuardHandler: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = NIOAny
    typealias InboundOut = NIOAny

    private let gate: ConnectionGate
    private let headerTimeout: TimeAmount
    private var registered = false
    private var headerSeen = false
    private var deadline: Scheduled<Void>?

    init(gate: ConnectionGate, headerTimeout: TimeAmount) {
        self.gate = gate
        self.headerTimeout = headerTimeout
    }

    func handlerAdded(context: ChannelHandlerContext) {
        if context.channel.isActive { start(context) }
    }

    func channelActive(context: ChannelHandlerContext) {
        start(context)
        context.fireChannelActive()
    }

    private func start(_ context: ChannelHandlerContext) {
        guard !registered else { return }
        registered = true
        let channel = context.channel
        for victim in gate.admit(channel) { victim.close(promise: nil) }
        deadline = context.eventLoop.scheduleTask(in: headerTimeout) { channel.close(promise: nil) }
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        if !headerSeen {
            headerSeen = true
            deadline?.cancel()
            deadline = nil
            gate.headerArrived(context.channel)
        }
        context.fireChannelRead(data)
    }

    func channelInactive(context: ChannelHandlerContext) {
        finish(context)
        context.fireChannelInactive()
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        finish(context)
    }

    private func finish(_ context: ChannelHandlerContext) {
        deadline?.cancel()
        deadline = nil
        if registered {
            registered = false
            gate.remove(context.channel)
        }
    }
}
