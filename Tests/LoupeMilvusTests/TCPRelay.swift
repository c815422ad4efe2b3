import Foundation
#if canImport(Glibc)
import Glibc
#endif
import LoupeMilvus

/// A loopback TCP relay in front of a server: clients connect to `port` and every connection is piped to
/// the server, byte for byte, by two threads. `cut()` makes the server vanish as a killed one does for its
/// clients: open connections are reset and new ones are refused (the listening socket is closed).
final class TCPRelay: @unchecked Sendable {
    let port: Int
    private let upstreamPort: Int
    private let listener: Int32
    private let lock = NSLock()
    private var sockets: Set<Int32> = []
    private var isCut = false

    init(to upstreamPort: Int) throws {
        self.upstreamPort = upstreamPort
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw MilvusError(.server, "relay: socket() failed") }
        var address = Self.loopback(port: 0)
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let listening = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                bind(fd, $0, length) == 0 && listen(fd, 64) == 0 && getsockname(fd, $0, &length) == 0
            }
        }
        guard listening else {
            close(fd)
            throw MilvusError(.server, "relay: cannot listen on loopback")
        }
        listener = fd
        port = Int(UInt16(bigEndian: address.sin_port))
        Thread.detachNewThread { [self] in acceptLoop() }
    }

    deinit { cut() }

    /// Resets every relayed connection and stops listening. Idempotent.
    func cut() {
        lock.withLock {
            guard !isCut else { return }
            isCut = true
            // SO_LINGER 0: the close sends a reset, as a dead peer's kernel does.
            var hard = linger(l_onoff: 1, l_linger: 0)
            for fd in sockets {
                setsockopt(fd, SOL_SOCKET, SO_LINGER, &hard, socklen_t(MemoryLayout<linger>.size))
                shutdown(fd, Int32(SHUT_RDWR))
            }
            shutdown(listener, Int32(SHUT_RDWR))
            close(listener)
        }
    }

    private static func loopback(port: UInt16) -> sockaddr_in {
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = port.bigEndian
        return address
    }

    /// Registers `fd` unless the relay is cut already (then it is closed at once).
    private func keep(_ fd: Int32) -> Bool {
        lock.withLock {
            if isCut { close(fd); return false }
            sockets.insert(fd)
            return true
        }
    }

    private func acceptLoop() {
        while true {
            let client = accept(listener, nil, nil)
            guard client >= 0 else {
                if errno == EINTR { continue }
                return  // the listener was closed by cut()
            }
            guard keep(client) else { return }
            let server = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
            var address = Self.loopback(port: UInt16(upstreamPort))
            let connected = server >= 0 && withUnsafePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                    connect(server, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) == 0
                }
            }
            guard connected, keep(server) else {
                if server >= 0 { close(server) }
                shutdown(client, Int32(SHUT_RDWR))
                continue
            }
            let finished = Pair()
            for (from, to) in [(client, server), (server, client)] {
                Thread.detachNewThread { [self] in
                    pump(from: from, to: to)
                    if finished.second() { release(client); release(server) }
                }
            }
        }
    }

    /// Counts the two pumps of a connection, so its sockets are closed once, after both stopped.
    private final class Pair: @unchecked Sendable {
        private let lock = NSLock()
        private var done = 0
        func second() -> Bool { lock.withLock { done += 1; return done == 2 } }
    }

    private func release(_ fd: Int32) {
        lock.withLock { sockets.remove(fd) }
        close(fd)
    }

    /// Copies bytes until either side ends, then ends both directions of both sockets.
    private func pump(from: Int32, to: Int32) {
        var buffer = [UInt8](repeating: 0, count: 64 * 1024)
        copying: while true {
            let count = buffer.withUnsafeMutableBytes { read(from, $0.baseAddress, $0.count) }
            if count < 0 && errno == EINTR { continue }
            guard count > 0 else { break }
            var sent = 0
            while sent < count {
                let wrote = buffer.withUnsafeBytes { send(to, $0.baseAddress! + sent, count - sent, Int32(MSG_NOSIGNAL)) }
                if wrote < 0 && errno == EINTR { continue }
                guard wrote > 0 else { break copying }
                sent += wrote
            }
        }
        shutdown(from, Int32(SHUT_RDWR))
        shutdown(to, Int32(SHUT_RDWR))
    }
}
