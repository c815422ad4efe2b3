// swift-tools-version:6.0
import PackageDescription

// grpc-swift-2 needs macOS 15 / iOS 18: LoupeMilvus's API is `@available(LoupeMilvus 1.0, *)`.
let milvusAvailability = SwiftSetting.enableExperimentalFeature(
    "AvailabilityMacro=LoupeMilvus 1.0:macOS 15.0, iOS 18.0, watchOS 11.0, tvOS 18.0, visionOS 2.0")

let package = Package(
    name: "Loupe",
    // macOS 15: LoupeCLIP uses the Synchronization module's `Mutex`.
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "loupe", targets: ["loupe"]),
        .library(name: "LoupeTensor", targets: ["LoupeTensor"]),
        .library(name: "LoupeCLIP", targets: ["LoupeCLIP"]),
        .library(name: "LoupeMedia", targets: ["LoupeMedia"]),
        .library(name: "LoupeStore", targets: ["LoupeStore"]),
        .library(name: "Loupe", targets: ["Loupe"]),
        .library(name: "LoupeServer", targets: ["LoupeServer"]),
        .library(name: "LoupeMilvus", targets: ["LoupeMilvus"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        .package(url: "https://github.com/groue/GRDB.swift", from: "7.10.0"),
        .package(url: "https://github.com/swift-server/async-http-client", from: "1.37.0"),
        .package(url: "https://github.com/apple/swift-crypto", from: "3.12.0"),
        .package(url: "https://github.com/apple/swift-nio", from: "2.100.0"),
        .package(url: "https://github.com/apple/swift-nio-ssl", from: "2.37.0"),
        .package(url: "https://github.com/apple/swift-http-types.git", from: "1.0.0"),
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.28.0"),
        .package(url: "https://github.com/apple/swift-log", from: "1.6.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus", from: "2.4.0"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.6.0"),
        .package(url: "https://github.com/grpc/grpc-swift-2", from: "2.4.3"),
        .package(url: "https://github.com/grpc/grpc-swift-nio-transport", from: "2.9.2"),
        .package(url: "https://github.com/grpc/grpc-swift-protobuf", from: "2.4.1"),
        .package(url: "https://github.com/apple/swift-protobuf", from: "1.39.0"),
    ],
    targets: [
        .systemLibrary(name: "CDNNL", path: "Sources/CDNNL"),
        // Activation quantisation for int8 products; intrinsics, no unsafe flags (as CLoupeSIMD). Its row
        // passes run on GNU OpenMP's threads, the pool Debian's oneDNN uses.
        .target(name: "CLoupeQuantize", linkerSettings: [.linkedLibrary("gomp", .when(platforms: [.linux]))]),
        .target(name: "LoupeTensor", dependencies: ["CDNNL", "CLoupeQuantize"]),
        .target(name: "LoupeCLIP", dependencies: ["LoupeTensor"]),
        .systemLibrary(name: "CFFmpeg", path: "Sources/CFFmpeg"),
        .target(name: "LoupeMedia", dependencies: ["CFFmpeg"]),
        // No unsafe flags, so the package can be a dependency: the kernels are written with intrinsics and
        // run as fast at release's -O2 as at -O3 (bench/simd_kernels.c).
        .target(name: "CLoupeSIMD"),
        .target(
            name: "LoupeStore",
            dependencies: ["CLoupeSIMD", .product(name: "GRDB", package: "GRDB.swift")]
        ),
        .target(
            name: "LoupeMilvus",
            dependencies: [
                "LoupeStore",
                .product(name: "GRPCCore", package: "grpc-swift-2"),
                .product(name: "GRPCNIOTransportHTTP2", package: "grpc-swift-nio-transport"),
                .product(name: "GRPCProtobuf", package: "grpc-swift-protobuf"),
                .product(name: "SwiftProtobuf", package: "swift-protobuf"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: [milvusAvailability]
        ),
        .target(
            name: "Loupe",
            dependencies: [
                "LoupeCLIP", "LoupeMedia", "LoupeTensor", "LoupeStore", "LoupeMilvus",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: [milvusAvailability]
        ),
        // The demo library and the shape painter: what `make demo` and the tests index. Not a product.
        .target(name: "LoupeFixtures", dependencies: ["Loupe", "LoupeMedia"]),
        .target(
            name: "LoupeServer",
            dependencies: [
                "Loupe", "LoupeMedia", "LoupeStore", "LoupeMilvus",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "HummingbirdCore", package: "hummingbird"),
                .product(name: "HummingbirdTLS", package: "hummingbird"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
                .product(name: "GRPCCore", package: "grpc-swift-2"),
                .product(name: "GRPCNIOTransportHTTP2", package: "grpc-swift-nio-transport"),
                .product(name: "SwiftProtobuf", package: "swift-protobuf"),
            ],
            exclude: ["Web"],
            swiftSettings: [milvusAvailability]
        ),
        .executableTarget(
            name: "loupe",
            dependencies: [
                "Loupe", "LoupeCLIP", "LoupeFixtures", "LoupeMedia", "LoupeStore", "LoupeServer", "LoupeTensor",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),
        .testTarget(name: "LoupeTensorTests", dependencies: ["LoupeTensor"]),
        // What the test targets share: loopback stand-ins of the cloud providers (with the shapes world's
        // embedding they answer with). Not part of any product.
        .target(
            name: "LoupeTestSupport",
            dependencies: [
                "Loupe", "LoupeFixtures", "LoupeMedia",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
            ],
            path: "Tests/LoupeTestSupport"
        ),
        .testTarget(
            name: "LoupeTests",
            dependencies: [
                "Loupe", "LoupeCLIP", "LoupeFixtures", "LoupeMedia", "LoupeTensor", "LoupeTestSupport",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        .testTarget(name: "LoupeCLIPTests", dependencies: ["LoupeCLIP", "LoupeMedia", "LoupeTensor"]),
        .testTarget(name: "LoupeStoreTests", dependencies: ["LoupeStore", "CLoupeSIMD"]),
        .testTarget(
            name: "LoupeMilvusTests",
            dependencies: ["LoupeMilvus", "LoupeStore", "Loupe", "LoupeFixtures", "LoupeMedia"],
            swiftSettings: [milvusAvailability]
        ),
        .testTarget(name: "LoupeMediaTests", dependencies: ["CFFmpeg", "LoupeMedia", "LoupeCLIP"]),
        .testTarget(
            name: "LoupeServerTests",
            dependencies: [
                "LoupeServer", "Loupe", "LoupeFixtures", "LoupeMedia", "LoupeMilvus", "LoupeStore", "LoupeTestSupport",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOFoundationCompat", package: "swift-nio"),
                .product(name: "NIOWebSocket", package: "swift-nio"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]
        ),
    ],
    swiftLanguageModes: [.v6]
)
